"""Every adapter operation, on its fast path and with the capability switched off.

The same assertions run for each variant on each database in HPF_TEST_DATABASE_URLS, so a
fallback that openGauss or OceanBase relies on is proven here on PostgreSQL and MariaDB.
"""

import threading
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from hpf_adapters.db import LockTimeout, UtcDateTime

scratch = sa.MetaData()
LINE = sa.Table(
    "t_line", scratch,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("account_no", sa.String(20), nullable=False),
    sa.Column("amount", sa.Numeric(18, 2), nullable=False),
    sa.Column("value_date", sa.Date, nullable=False),
    sa.Column("note", sa.String(50)),
    sa.Column("posted_at", UtcDateTime()),
)
ACCOUNT = sa.Table(
    "t_account", scratch,
    sa.Column("account_no", sa.String(20), primary_key=True),
    sa.Column("name", sa.String(50), nullable=False),
    sa.Column("balance", sa.Numeric(18, 2), nullable=False),
)
TASK = sa.Table(
    "t_task", scratch,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("worker", sa.String(20)),
)
GENERATED = sa.Table(
    "t_generated", scratch,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(20), nullable=False),
)


@pytest.fixture
def scratch_tables(database):
    scratch.drop_all(database.engine)
    scratch.create_all(database.engine)
    yield
    scratch.drop_all(database.engine)


def variant(database, overrides, *, needs=None):
    """The database's adapter with ``overrides``; skip when the server lacks the fast path."""
    adapter = database.adapter
    if needs and not needs(adapter):
        pytest.skip(f"n/a: {adapter.server.label} has no such fast path")
    return adapter.with_capabilities(overrides) if overrides else adapter


PG_FAMILY = {"postgresql", "opengauss"}


@pytest.mark.parametrize("overrides", ["bulk_load=copy", "bulk_load=multirow",
                                       "bulk_load=executemany"])
def test_bulk_insert_paths_load_exact_values(database, scratch_tables, overrides):
    adapter = variant(database, overrides, needs=(
        (lambda a: a.product in PG_FAMILY) if "copy" in overrides else None))
    posted = datetime(2026, 6, 30, 15, 59, 59, 123456, tzinfo=UTC)
    rows = [{"id": i, "account_no": f"A{i:08d}", "amount": Decimal(i) / 100 + Decimal("0.07"),
             "value_date": date(2026, 6, 1 + i % 28),
             "note": None if i % 7 == 0 else ("" if i % 11 == 0 else f"汇缴,\"第{i}行\"\n"),
             "posted_at": posted if i % 2 else None} for i in range(1, 2501)]
    with database.engine.begin() as conn:
        assert adapter.bulk_insert(conn, LINE, rows) == 2500
    with database.engine.connect() as conn:
        total = conn.scalar(sa.select(sa.func.sum(LINE.c.amount)))
        assert total == sum(r["amount"] for r in rows)  # exact, to the fen
        got = {r.id: r for r in conn.execute(sa.select(LINE).where(LINE.c.id.in_([7, 11, 13])))}
    assert got[7].note is None and got[11].note == "" and got[13].note == "汇缴,\"第13行\"\n"
    assert got[13].posted_at == posted and got[13].value_date == date(2026, 6, 14)


@pytest.mark.parametrize("overrides", ["", "upsert=emulated"])
def test_upsert_native_and_emulated(database, scratch_tables, overrides):
    adapter = variant(database, overrides)
    with database.engine.begin() as conn:
        adapter.upsert(conn, ACCOUNT, [
            {"account_no": "001", "name": "张三", "balance": Decimal("10.00")},
            {"account_no": "002", "name": "李四", "balance": Decimal("20.00")},
            {"account_no": "003", "name": "王五", "balance": Decimal("30.00")}], ["account_no"])
        adapter.upsert(conn, ACCOUNT, [
            {"account_no": "002", "name": "李四", "balance": Decimal("25.50")},
            {"account_no": "003", "name": "王五五", "balance": Decimal("31.00")},
            {"account_no": "004", "name": "赵六", "balance": Decimal("40.00")}],
            ["account_no"], update=["balance"])
        adapter.upsert(conn, ACCOUNT, [  # do-nothing on conflict
            {"account_no": "001", "name": "改名", "balance": Decimal("99.99")},
            {"account_no": "005", "name": "孙七", "balance": Decimal("50.00")}],
            ["account_no"], update=[])
    with database.engine.connect() as conn:
        rows = {r.account_no: (r.name, r.balance) for r in conn.execute(sa.select(ACCOUNT))}
    assert rows == {"001": ("张三", Decimal("10.00")), "002": ("李四", Decimal("25.50")),
                    "003": ("王五", Decimal("31.00")), "004": ("赵六", Decimal("40.00")),
                    "005": ("孙七", Decimal("50.00"))}


@pytest.mark.parametrize("overrides", ["", "returning=off"])
def test_insert_returning_gives_ids_in_input_order(database, scratch_tables, overrides):
    adapter = variant(database, overrides, needs=(
        None if overrides else (lambda a: a.caps.returning)))
    names = [f"n{i}" for i in range(25)]
    with database.engine.begin() as conn:
        out = adapter.insert_returning(conn, GENERATED, [{"name": n} for n in names],
                                       ["id", "name"])
    assert [name for _, name in out] == names
    ids = [i for i, _ in out]
    assert len(set(ids)) == 25 and all(isinstance(i, int) for i in ids)
    with database.engine.connect() as conn:
        stored = dict(conn.execute(sa.select(GENERATED.c.id, GENERATED.c.name)).all())
    assert stored == dict(out)


@pytest.mark.parametrize("overrides", ["", "skip_locked=off"])
def test_concurrent_claims_never_take_the_same_row(database, scratch_tables, overrides):
    adapter = variant(database, overrides, needs=(
        None if overrides else (lambda a: a.caps.skip_locked)))
    with database.engine.begin() as conn:
        conn.execute(TASK.insert(), [{"id": i, "status": "pending"} for i in range(1, 21)])
    first_claimed = threading.Event()
    results: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def worker(name, wait_for=None):
        try:
            if wait_for:
                wait_for.wait(10)
            with database.engine.begin() as conn:
                ids = adapter.claim(conn, TASK, "id", TASK.c.status == "pending", 5,
                                    {"status": "claimed", "worker": name})
                results[name] = ids
                if name == "a":
                    first_claimed.set()
                    time.sleep(0.3)  # hold the row locks while "b" tries
        except BaseException as exc:
            errors.append(exc)
            first_claimed.set()

    a = threading.Thread(target=worker, args=("a",))
    b = threading.Thread(target=worker, args=("b", first_claimed))
    a.start(), b.start()
    a.join(30), b.join(30)
    assert not errors, errors
    assert len(results["a"]) == 5
    assert not set(results["a"]) & set(results["b"])
    if adapter.caps.skip_locked:
        assert len(results["b"]) == 5  # skipped a's rows instead of waiting for them
    with database.engine.connect() as conn:
        owners = dict(conn.execute(sa.select(TASK.c.id, TASK.c.worker)
                                   .where(TASK.c.status == "claimed")).all())
    assert owners == {**{i: "a" for i in results["a"]}, **{i: "b" for i in results["b"]}}


@pytest.mark.parametrize("overrides", ["", "sequences=off"])
def test_sequence_numbers_are_unique_under_concurrency(database, overrides):
    adapter = variant(database, overrides, needs=(
        None if overrides else (lambda a: a.caps.sequences)))
    name = f"t_seq_{'native' if adapter.caps.sequences else 'table'}"
    if adapter.caps.sequences:
        with database.engine.begin() as conn:
            conn.execute(sa.schema.DropSequence(sa.Sequence(name), if_exists=True))
            adapter.create_sequence(conn, name)
    else:
        with database.engine.begin() as conn:
            conn.execute(sa.delete(adapter.support.sequence).where(
                adapter.support.sequence.c.name == name))
    first = adapter.allocate(name, 3)
    assert first == sorted(first) and len(set(first)) == 3
    got: list[int] = []
    lock = threading.Lock()

    def take():
        for _ in range(25):
            numbers = adapter.allocate(name, 2)
            with lock:
                got.extend(numbers)

    threads = [threading.Thread(target=take) for _ in range(3)]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    assert len(got) == 150 and len(set(got) | set(first)) == 153
    assert min(got) > max(first)
    if adapter.caps.sequences:
        with database.engine.begin() as conn:
            conn.execute(sa.schema.DropSequence(sa.Sequence(name)))


def test_a_missing_native_sequence_is_created_on_first_use(database):
    adapter = variant(database, "", needs=lambda a: a.caps.sequences)
    name = "t_seq_missing"
    with database.engine.begin() as conn:
        conn.execute(sa.schema.DropSequence(sa.Sequence(name), if_exists=True))
    assert adapter.allocate(name, 2) == [1, 2]
    assert adapter.allocate(name) == [3]
    with database.engine.begin() as conn:
        conn.execute(sa.schema.DropSequence(sa.Sequence(name)))


@pytest.mark.parametrize("overrides", ["", "named_lock=table"])
def test_named_lock_excludes_a_second_holder(database, overrides):
    adapter = variant(database, overrides, needs=(
        None if overrides else (lambda a: a.caps.named_lock.value != "table")))
    inside = threading.Event()
    release = threading.Event()

    def holder():
        with database.engine.connect() as conn, adapter.named_lock(conn, "settle:2026-06-30"):
            inside.set()
            release.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    assert inside.wait(10)
    with database.engine.connect() as conn, pytest.raises(LockTimeout), \
            adapter.named_lock(conn, "settle:2026-06-30", timeout=0.3):
        pass
    with database.engine.connect() as conn, adapter.named_lock(conn, "another-name", 1):
        pass  # other names are independent
    release.set()
    t.join(10)
    with database.engine.connect() as conn, adapter.named_lock(conn, "settle:2026-06-30", 5):
        pass  # free again after the holder left


def test_leases_expire_and_pass_to_another_holder(database):
    adapter = database.adapter
    name = "test-lease"
    adapter.release_lease(name, "h1"), adapter.release_lease(name, "h2")
    assert adapter.acquire_lease(name, "h1", ttl=1.0)
    assert not adapter.acquire_lease(name, "h2", ttl=1.0)
    assert adapter.acquire_lease(name, "h1", ttl=1.0)  # renewal by the holder
    time.sleep(1.3)
    assert adapter.acquire_lease(name, "h2", ttl=30)  # expired: taken over
    assert not adapter.acquire_lease(name, "h1", ttl=30)
    adapter.release_lease(name, "h1")  # not the holder: changes nothing
    assert adapter.lease_holder(name)[0] == "h2"
    adapter.release_lease(name, "h2")
    assert adapter.lease_holder(name) is None


@pytest.mark.parametrize("overrides", ["", "upsert=emulated"])
def test_large_upsert_spans_chunks(database, scratch_tables, overrides):
    """2,500 rows: several full chunks and a partial one; half update, half insert."""
    adapter = variant(database, overrides)
    first = [{"account_no": f"{i:06d}", "name": f"户{i}", "balance": Decimal(i)}
             for i in range(0, 2500, 2)]
    second = [{"account_no": f"{i:06d}", "name": f"户{i}", "balance": Decimal(i) + Decimal("0.01")}
              for i in range(2500)]
    with database.engine.begin() as conn:
        adapter.upsert(conn, ACCOUNT, first, ["account_no"])
        adapter.upsert(conn, ACCOUNT, second, ["account_no"], update=["balance"])
    with database.engine.connect() as conn:
        count = conn.scalar(sa.select(sa.func.count()).select_from(ACCOUNT))
        total = conn.scalar(sa.select(sa.func.sum(ACCOUNT.c.balance)))
    assert count == 2500
    assert total == sum(Decimal(i) for i in range(2500)) + Decimal("25.00")


def test_a_declared_reader_does_not_wait_for_an_open_writer(database):
    """Key loading and integrity scans read while another connection is mid-transaction
    (on SQLite that writer holds the only write lock)."""
    with database.engine.connect() as writer:
        writer.execute(sa.text("UPDATE param_def SET name = name WHERE code = 'interest.rate.current_year'"))
        with database.engine.connect().execution_options(hpf_read_only=True) as reader:
            count = reader.execute(sa.text("SELECT COUNT(*) FROM param_def")).scalar_one()
        assert count > 0
        writer.rollback()
