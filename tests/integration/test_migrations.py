"""One Alembic history on every database: up, down to base, up again; models agree."""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hpf.repositories import schema
from hpf.repositories.models import metadata
from hpf.repositories.uow import UnitOfWork
from hpf.services import access
from hpf.services.crypto import prepare, upgrade_database, verify_integrity

TABLES = {"hpf_lock", "hpf_sequence", "org_unit", "app_user", "param_def", "param_value",
          "code_type", "code_item", "job_run", "crypto_key", "person", "individual_account",
          "ledger_voucher", "ledger_entry", "audit_event", "audit_chain", "audit_checkpoint",
          "login_throttle", "password_history", "audit_archive", "role", "role_permission", "user_role",
          "user_security", "api_token", "approval_policy", "approval_request", "staff_session", "unit",
          "ledger_day"}


def tables(database):
    return set(sa.inspect(database.engine).get_table_names()) - {"alembic_version"}


def test_round_trip_upgrade_downgrade_upgrade(database):
    assert schema.state(database).at_head
    assert tables(database) >= TABLES
    state = schema.downgrade(database, "base")
    assert state.current is None
    assert tables(database) == set()
    state, prepared = upgrade_database(database)
    assert state.at_head and tables(database) >= TABLES
    # Fresh keys, and the reference data the migrations wrote is sealed with them.
    assert prepared["keys_created"] == 5 and prepared["rows_sealed"] > 0
    assert verify_integrity(database).ok


def test_step_by_step_down_and_up(database):
    revisions = [r for r, _ in schema.history()]
    for rev in reversed(revisions[:-1]):
        assert schema.downgrade(database, rev).current == rev
    schema.downgrade(database, "base")
    for rev in revisions:
        assert schema.upgrade(database, rev).current == rev
    # These steps ran outside upgrade_database: seal what the migrations wrote and write the
    # built-in roles, as `hpf db upgrade` does, for the tests that follow.
    prepare(database)
    access.sync_builtin(UnitOfWork(database), datetime.now(UTC))


def test_models_and_migrations_agree(database):
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_reference_data_is_seeded(database):
    with database.engine.connect() as conn:
        items = conn.execute(sa.text(
            "SELECT code, name FROM code_item WHERE type_code = 'GRZHZT' ORDER BY sort_order"
        )).all()
        rate = conn.execute(sa.text(
            "SELECT value FROM param_value WHERE param_code = 'interest.rate.current_year' "
            "ORDER BY effective_from DESC")).scalars().first()
    assert items[:2] == [("01", "正常"), ("02", "封存")]
    assert rate == "0.015"
