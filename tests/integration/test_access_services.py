"""Access-control services on every database: built-in roles, grants under the rules, sealed
grants, and maker-checker decisions racing each other."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from hpf.domain.errors import Conflict, Forbidden, HpfError
from hpf.repositories.models import OrgUnit, User
from hpf.repositories.uow import UnitOfWork
from hpf.security.passwords import hash_password
from hpf.services import access, approvals, auth
from hpf.services.audit import Who

pytestmark = pytest.mark.db
NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
WHO = Who("test")
PREFIX = "acs_"


def _cleanup(database) -> None:
    with database.engine.begin() as conn:
        users = f"(SELECT id FROM app_user WHERE username LIKE '{PREFIX}%')"
        if conn.dialect.name == "mysql":  # MySQL cannot select from the table it deletes from
            ids = [
                r[0]
                for r in conn.execute(sa.text(f"SELECT id FROM app_user WHERE username LIKE '{PREFIX}%'"))
            ]
            users = "(" + (",".join(map(str, ids)) or "NULL") + ")"
        for table, column in (
            ("approval_request", "maker_id"),
            ("user_role", "user_id"),
            ("user_security", "user_id"),
            ("api_token", "user_id"),
        ):
            conn.execute(sa.text(f"DELETE FROM {table} WHERE {column} IN {users}"))
        conn.execute(sa.text(f"DELETE FROM app_user WHERE username LIKE '{PREFIX}%'"))
        conn.execute(sa.text("DELETE FROM param_value WHERE source = 'acs-test'"))
        conn.execute(sa.text("DELETE FROM org_unit WHERE code = 'ACS0'"))


@pytest.fixture
def people(database):
    """A root organisation with a security admin, two system admins and a teller."""
    _cleanup(database)
    uow = UnitOfWork(database)
    with uow:
        org = uow.orgs.add(OrgUnit(code="ACS0", name="测试中心", kind="centre", region_code="350100"))
        made = {}
        for name, roles in (
            ("sec", ["secadmin"]),
            ("sys1", ["sysadmin"]),
            ("sys2", ["sysadmin"]),
            ("sys3", ["sysadmin"]),
            ("teller", ["teller"]),
        ):
            user = uow.users.add(
                User(
                    username=PREFIX + name,
                    display_name=name,
                    org_id=org.id,
                    password_hash=hash_password("Acs@2026x"),
                    password_changed_at=NOW,
                )
            )
            access.grant_role_codes(uow, user.id, roles, "test", NOW)
            made[name] = user.id
        uow.commit()
    principals = {k: auth.current_user(UnitOfWork(database), v, NOW) for k, v in made.items()}
    yield principals
    _cleanup(database)


def role_ids(database) -> dict[str, int]:
    with database.engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT code, id FROM role")).all())


def test_built_in_roles_are_synced_idempotently(database):
    first = access.sync_builtin(UnitOfWork(database), NOW)
    assert first == {"roles_created": 0, "roles_updated": 0}  # upgrade_database already did it
    teller = role_ids(database)["teller"]
    with database.engine.begin() as conn:  # a built-in role's permissions trimmed in SQL ...
        conn.execute(
            sa.text("DELETE FROM role_permission WHERE role_id = :r AND permission = 'unit:open'"),
            {"r": teller},
        )
    assert access.sync_builtin(UnitOfWork(database), NOW)["roles_updated"] == 1  # ... are restored
    assert access.sync_builtin(UnitOfWork(database), NOW)["roles_updated"] == 0


def test_grants_follow_the_rules_on_every_database(database, people):
    roles = role_ids(database)
    sec = people["sec"]
    with pytest.raises(Forbidden) as caught:
        access.set_user_roles(
            UnitOfWork(database), sec, WHO, NOW, people["teller"].id, [roles["sysadmin"], roles["auditadmin"]]
        )
    assert caught.value.code == "admin_roles_exclusive"
    held = access.set_user_roles(
        UnitOfWork(database), sec, WHO, NOW, people["teller"].id, [roles["teller"], roles["reviewer"]]
    )
    assert [r.code for r in held] == ["teller", "reviewer"]
    teller = auth.current_user(UnitOfWork(database), people["teller"].id, NOW)
    assert {"remittance:review", "remittance:post"} <= teller.permissions


def test_a_tampered_grant_is_ignored_on_every_database(database, people):
    roles = role_ids(database)
    with database.engine.begin() as conn:  # forge: make the teller's grant point at the auditor role
        conn.execute(
            sa.text("UPDATE user_role SET role_id = :a WHERE user_id = :u"),
            {"a": roles["auditor"], "u": people["teller"].id},
        )
    teller = auth.current_user(UnitOfWork(database), people["teller"].id, NOW)
    assert teller.roles == () and teller.permissions == frozenset()


def test_two_checkers_approving_at_once_apply_the_change_once(database, people):
    done = approvals.submit(
        UnitOfWork(database),
        people["sys1"],
        WHO,
        NOW,
        "param.change",
        {
            "code": "job.history_retention_days",
            "value": "400",
            "effective_from": "2099-03-01",
            "source": "acs-test",
        },
        summary="test",
    )
    request_id = done.request.id
    results: list[str] = []
    barrier = threading.Barrier(2)

    def decide(checker):
        barrier.wait()
        try:
            approvals.decide(UnitOfWork(database), checker, WHO, NOW, request_id, approve=True)
            results.append("approved")
        except Conflict as exc:
            results.append(exc.code)
        except HpfError as exc:  # a lock timeout on a busy server, reported as such
            results.append(exc.code)

    threads = [threading.Thread(target=decide, args=(people[k],)) for k in ("sys2", "sys3")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["approval_decided", "approved"]
    with database.engine.connect() as conn:
        n = conn.execute(sa.text("SELECT COUNT(*) FROM param_value WHERE source = 'acs-test'")).scalar_one()
    assert n == 1


def test_an_operator_reseals_a_reviewed_grant_by_its_composite_key(database, people):
    from hpf.crypto.errors import CryptoError
    from hpf.services import crypto

    roles = role_ids(database)
    teller = people["teller"].id
    with database.engine.begin() as conn:  # an approved emergency fix made in SQL
        conn.execute(sa.text("UPDATE user_role SET granted_by = 'fix', role_id = :r WHERE user_id = :u"),
                     {"r": roles["reviewer"], "u": teller})
    assert auth.current_user(UnitOfWork(database), teller, NOW).roles == ()  # ignored until reviewed
    crypto.reseal_row(database, "user_role", f"{teller},{roles['reviewer']}", reason="工单 2026-118")
    assert [r.code for r in auth.current_user(UnitOfWork(database), teller, NOW).roles] == ["reviewer"]
    with pytest.raises(CryptoError, match="主键为 user_id,role_id"):
        crypto.reseal_row(database, "user_role", str(teller), reason="x")
