"""A month's remittance and the annual interest of a large centre, against the raw floor.

Builds a centre of ``--units`` employers and ``--people`` depositors (default 100,000 and
1,000,000) in a scratch database, each account with an opening balance and its opening
detail line (a migration's 期初, balanced by one opening voucher), then measures in one run:

* **listing**: ``remittance.create_month`` — one roster remittance per unit, set-based;
* **matching**: the simulated bank's credits (one per unit) fetched and matched;
* **posting** (the target): ``remittance.post`` of every credited remittance — the detail
  lines, the balances, the units' 缴至年月, the voucher — in one transaction;
* **raw floor**: COPY of the same number of detail rows into a table shaped like
  ``account_detail`` (same indexes) plus one set-based UPDATE of as many balances in a
  copy of ``individual_account``, committed — what no posting path can beat;
* **naive**: the per-row ORM path (load the account, add the detail line and a ledger
  entry, flush) on ``--naive-sample`` lines, extrapolated; rolled back;
* **interest**: ``interest.settle_year`` over every account (积数 from the detail);
* **check**: ``ledger.check`` over the whole books (must find nothing).

Nothing here asserts a speed. Figures go to the terminal and to
``benchmarks/results/remittance-<timestamp>.json``.

    .venv/bin/python benchmarks/remittance_bench.py                                 # PostgreSQL, full size
    .venv/bin/python benchmarks/remittance_bench.py --units 2000 --people 20000 \\
        --url mysql://root@127.0.0.1/hpf_bench_remit                                # MariaDB fallbacks
    .venv/bin/python benchmarks/remittance_bench.py --units 500 --people 5000 --url sqlite:////tmp/r.sqlite3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import _results  # benchmarks/_results.py (scripts run with benchmarks/ on sys.path)
import sqlalchemy as sa

from hpf.config import load_settings
from hpf.domain import ledger as books
from hpf.domain.access import CATALOGUE, DataScope
from hpf.repositories.database import open_app_database
from hpf.repositories.models import AccountDetail, IndividualAccount, LedgerEntry, Person, Unit, metadata
from hpf.repositories.uow import UnitOfWork
from hpf.services import accounts, interest, ledger, remittance, units
from hpf.services.access import Principal
from hpf.services.audit import Who
from hpf.services.crypto import upgrade_database
from hpf.services.demo import load_demo_centre
from hpf_adapters.bank import create as create_bank

KEK = "8c1f0e6a7b2d4c3e9f5a1b0c2d3e4f50"
MONTH = "202606"
POST_DAY = datetime(2026, 6, 5, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
SETTLE_DAY = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
OPENING_DAY = date(2025, 6, 30)
WHO = Who("bench:remittance")


def actor() -> Principal:
    permissions = frozenset(p.code for p in CATALOGUE)
    return Principal(
        id=0,
        username="bench",
        display_name="bench",
        org_id=0,
        org_code="",
        org_name="",
        permissions=permissions,
        scope=DataScope(0, None),
    )


def step(label: str, func, *args, **kwargs):
    started = time.perf_counter()
    result = func(*args, **kwargs)
    seconds = time.perf_counter() - started
    print(f"  {label:<44} {seconds:9.2f} s", flush=True)
    return result, seconds


# ----- building the centre -----------------------------------------------------------------


def fresh_database(url: str, instance: str):
    settings = load_settings(
        environ={}, overrides={"instance_path": instance, "log.format": "text", "crypto.kek": KEK}
    )
    database = open_app_database(settings, url)
    engine_url = database.engine.url
    if engine_url.get_backend_name() != "sqlite":
        try:
            database.check_connection()
        except Exception:
            family = database.engine.dialect.name
            admin_url = (
                engine_url._replace(database=None)
                if family == "mysql"
                else engine_url.set(database="postgres")
            )
            admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(
                    f"CREATE DATABASE {engine_url.database}"
                    + (" CHARACTER SET utf8mb4" if family == "mysql" else "")
                )
            admin.dispose()
    with database.engine.begin() as conn:
        for name in ("floor_detail", "floor_account"):
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        metadata.drop_all(conn)
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    upgrade_database(database)
    load_demo_centre(UnitOfWork(database))
    return database


def build_centre(database, n_units: int, n_people: int) -> None:
    """One unit and one person through the services (real encryption); the rest bulk-loaded
    with their ciphertexts (the benchmark measures posting, not field encryption)."""
    who, me = WHO, actor()
    with database.engine.connect() as conn:
        org_id = conn.execute(sa.text("SELECT id FROM org_unit WHERE code = '001'")).scalar_one()
    first = units.open_unit(
        UnitOfWork(database),
        me,
        who,
        POST_DAY,
        units.NewUnit(
            credit_code="91350100MA0000001" + _check("91350100MA0000001"),
            name="基准单位1",
            org_id=org_id,
            unit_ratio=Decimal("0.12"),
            person_ratio=Decimal("0.12"),
            deposit_day=5,
            bank_name="示范银行",
            bank_account="6222020000000001",
            contact_name="联系人",
            contact_phone="13800000000",
            on=POST_DAY.date(),
        ),
    )
    accounts.open_account(
        UnitOfWork(database),
        me,
        who,
        POST_DAY,
        accounts.NewAccount(
            name="职工1",
            id_type="01",
            id_number=_resident_id(1),
            unit_id=first.id,
            deposit_base=Decimal("8000.00"),
            on=POST_DAY.date(),
        ),
    )
    adapter = database.adapter
    with database.engine.begin() as conn:
        unit_row = conn.execute(sa.text("SELECT bank_account, contact_phone FROM unit")).one()
        person = conn.execute(sa.text("SELECT id_number, id_number_bidx FROM person")).one()
        # the service-made unit: 正常 and paid up to May like the others (re-sealed by prepare())
        conn.execute(sa.text("UPDATE unit SET status = '01', paid_up_to = '202605', row_mac = NULL"))
    raw = sa.MetaData()
    unit_t = sa.Table("unit", raw, *(sa.Column(c.name, _plain(c.type)) for c in Unit.__table__.columns))
    person_t = sa.Table(
        "person",
        raw,
        sa.Column("id", sa.Integer),
        sa.Column("name", sa.String),
        sa.Column("id_type", sa.String),
        sa.Column("id_number", sa.String),
        sa.Column("id_number_bidx", sa.String),
        sa.Column("created_at", sa.DateTime),
        sa.Column("row_mac", sa.String),
    )
    from hpf.crypto import integrity

    plain_id = _resident_id(1)

    def people(start, stop):
        """Person rows sealed over their plaintexts, written with the one ciphertext."""
        rows = integrity.seal_rows(
            conn,
            Person,
            [
                {"name": f"职工{i}", "id_type": "01", "id_number": plain_id, "phone": None, "bank_card": None}
                for i in range(start, stop)
            ],
        )
        return [
            {
                "id": i,
                "name": r["name"],
                "id_type": "01",
                "id_number": person[0],
                "id_number_bidx": person[1],
                "created_at": now,
                "row_mac": r["row_mac"],
            }
            for i, r in zip(range(start, stop), rows, strict=True)
        ]

    now = POST_DAY
    with database.engine.begin() as conn:
        rows = []
        for i in range(2, n_units + 1):
            rows.append(
                {
                    "id": i,
                    "unit_no": f"BU{i:08d}",
                    "credit_code": f"91350100BM{i:07d}X",
                    "name": f"基准单位{i}",
                    "org_id": org_id,
                    "status": "01",
                    "unit_ratio": Decimal("0.05") + Decimal(i % 8) / 100,
                    "person_ratio": Decimal("0.05") + Decimal((i + 3) % 8) / 100,
                    "deposit_day": 5,
                    "bank_name": "示范银行",
                    "bank_account": unit_row[0],
                    "contact_name": "联系人",
                    "contact_phone": unit_row[1],
                    "paid_up_to": "202605",
                    "opened_on": date(2020, 1, 1),
                    "closed_on": None,
                    "created_at": now,
                }
            )
        integrity.seal_rows(conn, Unit, rows)
        adapter.bulk_insert(conn, unit_t, rows)
        for start in range(2, n_people + 1, 200_000):
            stop = min(n_people + 1, start + 200_000)
            adapter.bulk_insert(conn, person_t, people(start, stop))
            adapter.bulk_insert(
                conn,
                IndividualAccount.__table__,
                integrity.seal_rows(
                    conn,
                    IndividualAccount,
                    [
                        {
                            "id": i,
                            "account_no": f"BA{i:010d}",
                            "person_id": i,
                            "status": "01",
                            "balance": Decimal(10000 + (i * 37) % 90000) / 4,
                            "opened_on": date(2020, 1, 1),
                            "created_at": now,
                            "unit_id": 1 + (i % n_units),
                            "deposit_base": Decimal(2030 + (i * 53) % 20000) + Decimal("0.55"),
                            "status_before_freeze": None,
                            "closed_on": None,
                        }
                        for i in range(start, stop)
                    ],
                ),
            )
        _bump_sequences(conn, ("unit", "person", "individual_account"))
    # The opening balances: one voucher (Dr 101 / Cr 201 per unit) and one detail line each.
    uow = UnitOfWork(database)
    with uow:
        totals = uow.session.execute(
            sa.select(IndividualAccount.unit_id, sa.func.sum(IndividualAccount.balance)).group_by(
                IndividualAccount.unit_id
            )
        ).all()
        credits = [books.Line(books.PROVIDENT_FUND, credit=Decimal(t), unit_id=u) for u, t in totals if t]
        total = sum((line.credit for line in credits), Decimal("0.00"))
        voucher = ledger.post(
            uow,
            books.VoucherDraft(
                OPENING_DAY, "99", "期初余额迁移", (books.Line(books.FUND_DEPOSIT, debit=total), *credits)
            ),
            created_by="bench",
        )
        a = IndividualAccount
        select = sa.select(
            a.id,
            a.unit_id,
            sa.literal(OPENING_DAY, sa.Date),
            sa.literal("99"),
            a.balance,
            sa.literal(voucher.id),
            sa.literal("0"),
        ).where(a.balance != 0)
        uow.session.execute(
            AccountDetail.__table__.insert().from_select(
                [
                    "account_id",
                    "unit_id",
                    "value_date",
                    "business_type",
                    "amount",
                    "voucher_id",
                    "reversal_flag",
                ],
                select,
            )
        )
        uow.commit()
    from hpf.services.crypto import prepare

    prepare(database)  # seals the rows loaded without a MAC, as after a migration
    if database.engine.dialect.name in ("postgresql", "mysql"):
        with database.engine.connect() as conn:  # as an operator does after a data migration
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            for table in ("unit", "person", "individual_account", "account_detail", "ledger_entry"):
                conn.exec_driver_sql(f"ANALYZE {'TABLE ' if conn.dialect.name == 'mysql' else ''}{table}")


def _plain(column_type):
    from hpf.crypto.fields import EncryptedString

    return sa.String() if isinstance(column_type, EncryptedString) else column_type


def _bump_sequences(conn, tables) -> None:
    if conn.dialect.name == "postgresql":
        for table in tables:
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            )


def _check(first17: str) -> str:
    from hpf.domain.identity_codes import credit_check_char

    return credit_check_char(first17)


def _resident_id(serial: int) -> str:
    from hpf.domain.identity_codes import resident_check_char

    first17 = f"35010219900307{serial:03d}"
    return first17 + resident_check_char(first17)


# ----- the measured paths -------------------------------------------------------------------


def fetch_and_match(database, bank) -> remittance.MatchResult:
    with database.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT r.id, u.unit_no, u.name, r.total, r.remittance_no FROM remittance r "
                "JOIN unit u ON u.id = r.unit_id WHERE r.status = '01'"
            )
        ).all()
    from hpf.domain.matching import reference_for

    bank.pay_many(
        [(no, name, Decimal(str(total)).quantize(Decimal("0.01")), reference_for(rno), POST_DAY.date())
         for _, no, name, total, rno in rows]
    )
    found, _ = bank.credits_since(None)
    return remittance.receive_credits(UnitOfWork(database), actor(), WHO, POST_DAY, found)


def credited_ids(database) -> list[int]:
    with database.engine.connect() as conn:
        return list(
            conn.execute(sa.text("SELECT id FROM remittance WHERE status = '02' ORDER BY id")).scalars()
        )


def raw_floor(database, lines: int) -> float:
    """COPY ``lines`` detail rows + one UPDATE of as many balances, committed."""
    adapter, dialect = database.adapter, database.engine.dialect.name
    with database.engine.begin() as conn:
        for name in ("floor_detail", "floor_account"):
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        if dialect == "postgresql":
            conn.exec_driver_sql("CREATE TABLE floor_detail (LIKE account_detail INCLUDING ALL)")
            conn.exec_driver_sql("CREATE TABLE floor_account (LIKE individual_account INCLUDING ALL)")
            options = conn.exec_driver_sql(
                "SELECT reloptions FROM pg_class WHERE relname = 'individual_account'").scalar()
            if options:  # the same page layout (fillfactor, migration 0015) as the real table
                conn.exec_driver_sql(f"ALTER TABLE floor_account SET ({', '.join(options)})")
        elif dialect == "mysql":
            conn.exec_driver_sql("CREATE TABLE floor_detail LIKE account_detail")
            conn.exec_driver_sql("CREATE TABLE floor_account LIKE individual_account")
        else:
            conn.exec_driver_sql("CREATE TABLE floor_detail AS SELECT * FROM account_detail WHERE 0")
            conn.exec_driver_sql("CREATE TABLE floor_account AS SELECT * FROM individual_account WHERE 0")
            conn.exec_driver_sql("CREATE INDEX ix_fd ON floor_detail (account_id, value_date)")
        conn.exec_driver_sql("INSERT INTO floor_account SELECT * FROM individual_account")
    if dialect in ("postgresql", "mysql"):
        with database.engine.connect() as conn:  # fresh statistics, as the real tables have
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            for name in ("floor_detail", "floor_account"):
                conn.exec_driver_sql(f"ANALYZE {'TABLE ' if dialect == 'mysql' else ''}{name}")
    with database.engine.connect() as conn:
        accounts_ = list(
            conn.execute(sa.text("SELECT id, unit_id FROM individual_account ORDER BY id")).all()
        )
    detail = sa.Table(
        "floor_detail",
        sa.MetaData(),
        *(sa.Column(c.name, c.type) for c in AccountDetail.__table__.columns if c.name != "id"),
    )
    rows = [
        {
            "account_id": accounts_[i % len(accounts_)][0],
            "unit_id": accounts_[i % len(accounts_)][1],
            "value_date": POST_DAY.date(),
            "business_type": "01",
            "amount": Decimal("1234.56"),
            "unit_part": Decimal("617.28"),
            "person_part": Decimal("617.28"),
            "month": MONTH,
            "voucher_id": 1,
            "source_id": 1,
            "reversal_flag": "0",
        }
        for i in range(lines)
    ]
    started = time.perf_counter()
    with database.engine.begin() as conn:
        adapter.bulk_insert(conn, detail, rows)
        f = sa.Table(
            "floor_account", sa.MetaData(), sa.Column("id", sa.Integer), sa.Column("balance", sa.Numeric)
        )
        sums = (
            sa.select(detail.c.account_id, sa.func.sum(detail.c.amount).label("amount"))
            .group_by(detail.c.account_id)
            .subquery()
        )
        conn.execute(
            sa.update(f).values(balance=f.c.balance + sums.c.amount).where(f.c.id == sums.c.account_id)
        )
    return time.perf_counter() - started


def naive(database, sample: int) -> float:
    """Per row through the ORM: load the account, add to its balance (its MAC checked and
    renewed), add the detail line and a ledger entry, flush. Rolled back afterwards."""
    uow = UnitOfWork(database)
    with uow:
        ids = list(
            uow.session.execute(
                sa.select(IndividualAccount.id).order_by(IndividualAccount.id).limit(sample)
            ).scalars()
        )
        voucher_id = uow.session.scalar(sa.select(sa.func.min(LedgerEntry.voucher_id)))
        started = time.perf_counter()
        for n, account_id in enumerate(ids, start=1):
            account = uow.session.get(IndividualAccount, account_id)
            account.balance = account.balance + Decimal("1234.56")
            uow.session.add(
                AccountDetail(
                    account_id=account_id,
                    unit_id=account.unit_id,
                    value_date=POST_DAY.date(),
                    business_type="01",
                    amount=Decimal("1234.56"),
                    month=MONTH,
                    voucher_id=voucher_id,
                    reversal_flag="0",
                )
            )
            uow.session.add(
                LedgerEntry(
                    voucher_id=voucher_id,
                    line_no=1_000_000 + n,
                    subject_code="201",
                    debit=Decimal("0.00"),
                    credit=Decimal("1234.56"),
                    account_id=account_id,
                )
            )
            uow.session.flush()
        seconds = time.perf_counter() - started
        uow.session.rollback()
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1/hpf_bench_remit")
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--naive-sample", type=int, default=10_000)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    started_at = datetime.now(UTC)
    figures: dict[str, object] = {}
    instance = tempfile.mkdtemp(prefix="hpf-bench-")
    print(f"remittance benchmark: {args.units:,} units, {args.people:,} people on {args.url}")
    database, figures["setup_database_s"] = step(
        "fresh database, migrations, demo centre", fresh_database, args.url, instance
    )
    _, figures["build_centre_s"] = step(
        "build centre (bulk, untimed target)", build_centre, database, args.units, args.people
    )
    me = actor()
    listed, figures["listing_s"] = step(
        "listing: create_month (set-based)",
        remittance.create_month,
        UnitOfWork(database),
        me,
        WHO,
        POST_DAY,
        MONTH,
    )
    bank = create_bank("simulator", today=lambda: POST_DAY.date())
    matched, figures["matching_s"] = step("bank credits: fetch + match", fetch_and_match, database, bank)
    ids = credited_ids(database)
    with database.engine.connect() as conn:
        lines = conn.execute(sa.text("SELECT COUNT(*) FROM remittance_line")).scalar_one()
    print(f"    listed {listed:,} remittances, {lines:,} lines; matched {matched.matched:,} credits")
    result, post_s = step(
        "POSTING: remittance.post (one transaction)",
        remittance.post,
        UnitOfWork(database),
        me,
        WHO,
        POST_DAY,
        ids,
    )
    figures["posting_s"] = post_s
    floor_s = raw_floor(database, result.lines)
    print(f"  {'raw floor: COPY + one UPDATE (committed)':<44} {floor_s:9.2f} s")
    figures["raw_floor_s"] = floor_s
    sample = min(args.naive_sample, args.people)
    naive_s = naive(database, sample)
    naive_full = naive_s / sample * result.lines
    print(
        f"  {f'naive per-row ORM ({sample:,} lines)':<44} {naive_s:9.2f} s → {naive_full:,.0f} s for "
        f"{result.lines:,} (extrapolated)"
    )
    figures.update(naive_sample=sample, naive_sample_s=naive_s, naive_extrapolated_s=naive_full)
    settled, figures["interest_s"] = step(
        "INTEREST: settle_year 2026 (all accounts)",
        interest.settle_year,
        UnitOfWork(database),
        me,
        WHO,
        SETTLE_DAY,
        2026,
    )
    findings, figures["ledger_check_s"] = step("ledger check", ledger.check, database)
    print()
    print(
        f"posted {result.remittances:,} remittances, {result.lines:,} detail lines, {result.total:,.2f} 元, "
        f"vouchers {', '.join(result.vouchers)}"
    )
    print(f"posting / raw floor = {post_s / floor_s:.2f}×   (target ≤ 3×; ≤ 15 s on 2 cores)")
    print(f"naive per-row / posting = {naive_full / post_s:,.1f}×")
    print(
        f"interest: {settled.accounts:,} accounts, {settled.total:,.2f} 元 in {figures['interest_s']:.2f} s "
        "(target ≤ 30 s)"
    )
    print("ledger check: " + ("clean" if not findings else "; ".join(f.message for f in findings)))
    figures.update(
        posting_over_floor=post_s / floor_s,
        naive_over_posting=naive_full / post_s,
        remittances=result.remittances,
        lines=result.lines,
        posted_total=str(result.total),
        interest_accounts=settled.accounts,
        interest_total=str(settled.total),
        ledger_findings=[f.message for f in findings],
    )
    _results.write_results(
        "remittance",
        started_at,
        {
            "machine": _results.machine_info(sqlalchemy=sa.__version__),
            "parameters": {"url": database.display_url, "units": args.units, "people": args.people},
            "figures": figures,
        },
        args.out,
    )
    database.dispose()
    return 0 if not findings else 1


if __name__ == "__main__":
    sys.exit(main())
