"""The openGauss and OceanBase adapters, exercised on the servers this machine has.

No openGauss or OceanBase server runs here, so each adapter class runs its operations
against the protocol sibling it would fall back to (openGauss on PostgreSQL with upsert
emulated, since ODKU is openGauss-only syntax; OceanBase on MariaDB: lock table, multi-row
insert, guarded-UPDATE claims, counter-table sequences), and its session setup and doctor
checks are read without a server.
"""

import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from hpf.config import DatabaseSettings
from hpf_adapters.db import LockTimeout
from hpf_adapters.db.oceanbase import OceanBaseAdapter
from hpf_adapters.db.opengauss import OpenGaussAdapter
from hpf_adapters.db.versions import parse_mysql_family, parse_postgresql_family
from tests.integration.test_adapter_paths import ACCOUNT, LINE, TASK

OB = parse_mysql_family("5.7.25-OceanBase_CE-v4.4.2.0")
OG = parse_postgresql_family("(openGauss 5.0.2 build 48a25b11) compiled at 2024-05-14")


@pytest.fixture
def stand_in(database):
    """The domestic adapter class bound to this machine's protocol sibling."""
    family = database.engine.dialect.name
    if family == "postgresql":
        cls, server, overrides = OpenGaussAdapter, OG, "upsert=emulated"
    elif family == "mysql":
        cls, server, overrides = OceanBaseAdapter, OB, ""
    else:
        pytest.skip("n/a: no domestic adapter speaks SQLite's protocol")
    caps = cls.default_capabilities(server)
    caps = caps.with_overrides(overrides) if overrides else caps
    scratch = LINE.metadata
    scratch.drop_all(database.engine)
    scratch.create_all(database.engine)
    yield cls(database.engine, server, caps, database.adapter.support)
    scratch.drop_all(database.engine)


def test_domestic_adapter_runs_its_operations(stand_in, database):
    adapter = stand_in
    rows = [{"id": i, "account_no": f"A{i}", "amount": Decimal("1.01"),
             "value_date": "2026-06-30", "note": "汇缴"} for i in range(1, 1201)]
    with database.engine.begin() as conn:
        assert adapter.bulk_insert(conn, LINE, rows) == 1200
        adapter.upsert(conn, ACCOUNT, [{"account_no": "1", "name": "张三", "balance": 1}],
                       ["account_no"])
        adapter.upsert(conn, ACCOUNT, [{"account_no": "1", "name": "张三", "balance": 2}],
                       ["account_no"])
        conn.execute(TASK.insert(), [{"id": i, "status": "pending"} for i in range(1, 6)])
        claimed = adapter.claim(conn, TASK, "id", TASK.c.status == "pending", 3,
                                {"status": "claimed"})
    assert claimed == [1, 2, 3]
    with database.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.sum(LINE.c.amount))) == Decimal("1212.00")
        assert conn.scalar(sa.select(ACCOUNT.c.balance)) == Decimal("2.00")
    sequence = f"t_{adapter.product}_voucher"
    with database.engine.begin() as conn:
        adapter.create_sequence(conn, sequence)  # native on openGauss; a no-op on OceanBase
    numbers = adapter.allocate(sequence, 3)
    assert len(set(numbers)) == 3
    if adapter.caps.sequences:
        with database.engine.begin() as conn:
            conn.execute(sa.schema.DropSequence(sa.Sequence(sequence)))
    with database.engine.connect() as conn, adapter.named_lock(conn, "dom-lock", 2):
        failed = []

        def other():
            try:
                with database.engine.connect() as c2, adapter.named_lock(c2, "dom-lock", 0.2):
                    pass
            except LockTimeout:
                failed.append(True)

        t = threading.Thread(target=other)
        t.start()
        t.join(10)
        assert failed == [True]


def test_oceanbase_session_setup_raises_its_timeouts():
    options = OceanBaseAdapter.engine_options(DatabaseSettings(ob_query_timeout=900,
                                                               ob_trx_timeout=7200))
    init = options["connect_args"]["init_command"]
    assert "time_zone = '+00:00'" in init and "STRICT_TRANS_TABLES" in init
    assert "ob_query_timeout = 900000000" in init and "ob_trx_timeout = 7200000000" in init
    assert options["connect_args"]["charset"] == "utf8mb4"
    assert options["isolation_level"] == "READ COMMITTED"


class _Conn:
    """Answers the doctor's queries the way an openGauss server would."""

    def __init__(self, compatibility):
        self.compatibility = compatibility

    def exec_driver_sql(self, sql):
        answers = {"SHOW server_encoding": "UTF8", "SHOW client_encoding": "UTF8",
                   "SHOW TimeZone": "UTC", "SHOW standard_conforming_strings": "on",
                   "SHOW default_transaction_isolation": "read committed"}
        value = answers.get(sql)
        if value is None:
            value = self.compatibility if "datcompatibility" in sql else "PRC"
        return type("R", (), {"scalar": staticmethod(lambda: value)})()


@pytest.mark.parametrize("mode, level", [("PG", "ok"), ("A", "fatal"), ("B", "fatal")])
def test_opengauss_doctor_requires_pg_compatibility(mode, level):
    adapter = OpenGaussAdapter(None, OG, OpenGaussAdapter.default_capabilities(OG), None)
    found = {f.check: f for f in adapter.doctor(_Conn(mode))}
    assert found["compatibility"].level == level
    if level == "fatal":
        assert "DBCOMPATIBILITY 'PG'" in found["compatibility"].message
