"""Bulk database paths: how fast each adapter path loads rows, against one INSERT per row.

For every database URL given (``--url``, repeatable) this benchmark creates a scratch table
``bench_line`` with SQLAlchemy Core on a fresh engine from
``hpf_adapters.db.open_database(url, DatabaseSettings())`` and times, in one run:

* the naive baseline: one Core INSERT per row (and one ORM ``add`` + ``flush`` per row) on a
  smaller sample (``--baseline-rows``); its rows/s is *extrapolated* to ``--rows``;
* ``Adapter.bulk_insert`` with the adapter's default capabilities;
* ``Adapter.bulk_insert`` forced through ``Capabilities.with_overrides`` to each bulk-load
  method: ``bulk_load=copy`` (only where the adapter has a COPY path), ``multirow`` and
  ``executemany``;
* ``Adapter.upsert`` native (the default style) and ``upsert=emulated``, on rows of which
  half have keys already in the table and half are new.

Every measurement starts from a freshly created table (dropped and re-created between
repetitions, untimed), runs ``--repeat`` times, and reports the median seconds, rows/s and
the ratio to the per-row baseline measured in the same run. Timings include the COMMIT.
Nothing here asserts a speed: figures go to the terminal and to
``benchmarks/results/db_paths-<timestamp>.json``.

    .venv/bin/python benchmarks/db_paths_bench.py                       # sqlite, PG, MariaDB
    .venv/bin/python benchmarks/db_paths_bench.py --url postgresql://postgres@127.0.0.1/hpf_bench \\
        --rows 20000 --repeat 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import _results  # benchmarks/_results.py (scripts run with benchmarks/ on sys.path)
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, registry

from hpf.config import DatabaseSettings
from hpf.domain.errors import HpfError
from hpf_adapters.db import Adapter, BulkLoad, Database, UpsertStyle, open_database, resolve_url

TABLE_NAME = "bench_line"
DEFAULT_URLS = (
    "sqlite:///{tmp}/bench.sqlite3",
    "postgresql://postgres@127.0.0.1/hpf_bench",
    "mysql://root@127.0.0.1/hpf_bench",
)
Row = dict[str, Any]


# ----- the scratch table and its rows ------------------------------------------------------

def make_table() -> tuple[sa.Table, type]:
    metadata = sa.MetaData()
    table = sa.Table(
        TABLE_NAME, metadata,
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("account_no", sa.String(20), nullable=False),
        sa.Column("amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("note", sa.String(50)),
    )

    class BenchLine:  # the ORM baseline maps the same table
        def __init__(self, **kw: Any) -> None:
            self.__dict__.update(kw)

    registry().map_imperatively(BenchLine, table)
    return table, BenchLine


def make_rows(start: int, count: int, version: int = 0) -> list[Row]:
    """Deterministic rows; ``version`` changes amount and note (for the upsert's updates).

    Notes mix Chinese text, NULLs and CSV-special characters so that every path (COPY in
    particular) has to quote and escape correctly.
    """
    base = date(2024, 1, 1)
    rows = []
    for i in range(start, start + count):
        cents = (i * 7919 + version * 104729) % 10_000_000
        if i % 10 == 0:
            note = None
        elif i % 10 == 1:
            note = f'调整,"{i}"\\{version}'
        else:
            note = f"汇缴 {i % 12 + 1} 月 v{version}"
        rows.append({
            "id": i,
            "account_no": f"6222{i:012d}",
            "amount": Decimal(cents).scaleb(-2),
            "value_date": base + timedelta(days=i % 365),
            "note": note,
        })
    return rows


def expected_sum(rows: Sequence[Row]) -> Decimal:
    return sum((r["amount"] for r in rows), Decimal("0.00"))


# ----- measurements -------------------------------------------------------------------------

@dataclass
class Measurement:
    name: str
    kind: str                  # baseline | bulk_insert | upsert
    rows: int                  # rows handled per repetition
    seconds: list[float]
    capabilities: str = ""     # the override applied ("" = adapter defaults)
    method: str = ""           # the bulk-load method / upsert style actually configured
    extrapolated_to: int = 0   # >0: a sample; rows/s is extrapolated to this many rows
    verified: bool = True
    note: str = ""
    median_s: float = 0.0
    rows_per_s: float = 0.0
    ratio_vs_per_row: float | None = None
    extrapolated_s: float | None = None
    min_s: float = 0.0
    max_s: float = 0.0

    def finish(self) -> None:
        self.median_s = statistics.median(self.seconds)
        self.min_s, self.max_s = min(self.seconds), max(self.seconds)
        self.rows_per_s = self.rows / self.median_s if self.median_s > 0 else float("inf")
        if self.extrapolated_to:
            self.extrapolated_s = self.extrapolated_to / self.rows_per_s


@dataclass
class DatabaseResult:
    url: str
    server: str = ""
    adapter: str = ""
    default_capabilities: dict[str, object] = field(default_factory=dict)
    skipped: str = ""
    measurements: list[Measurement] = field(default_factory=list)


def progress(text: str) -> None:
    print(f"  … {text}", file=sys.stderr, flush=True)


def recreate(engine: sa.Engine, table: sa.Table) -> None:
    with engine.begin() as conn:
        table.drop(conn, checkfirst=True)
        table.create(conn)


def verify(engine: sa.Engine, table: sa.Table, rows: int, total: Decimal) -> tuple[bool, str]:
    with engine.connect() as conn:
        count, amount = conn.execute(
            sa.select(sa.func.count(), sa.func.sum(table.c.amount))).one()
    # SQLite keeps NUMERIC as a binary float: allow a rounding error there, exact elsewhere.
    if count != rows or abs(Decimal(str(amount or 0)) - total) > Decimal("0.05"):
        return False, f"table holds {count} rows / sum {amount}, expected {rows} / {total}"
    return True, ""


def measure(label: str, engine: sa.Engine, table: sa.Table, repeat: int,
            prepare: Callable[[], None], action: Callable[[], None],
            check: Callable[[], tuple[bool, str]]) -> tuple[list[float], bool, str]:
    seconds, ok, note = [], True, ""
    for rep in range(repeat):
        recreate(engine, table)
        prepare()
        progress(f"{label} [{rep + 1}/{repeat}]")
        start = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - start)
        good, why = check()
        if not good:
            ok, note = False, why
    return seconds, ok, note


def variant(base: Adapter, overrides: str) -> Adapter:
    """The same adapter class on the same engine, with capabilities overridden."""
    return type(base)(base.engine, base.server, base.caps.with_overrides(overrides),
                      base.support)


def has_copy_path(adapter: Adapter) -> bool:
    # Adapters without COPY inherit the base class's fallback (multi-row INSERT): forcing
    # bulk_load=copy there would just measure multirow a second time.
    return type(adapter)._bulk_copy is not Adapter._bulk_copy


def run_database(db: Database, args: argparse.Namespace) -> list[Measurement]:
    table, orm_class = make_table()
    engine = db.engine
    base = db.adapter
    n, sample, batch = args.rows, min(args.baseline_rows, args.rows), args.batch or args.rows
    rows = make_rows(0, n)
    sample_rows = rows[:sample]
    total, sample_total = expected_sum(rows), expected_sum(sample_rows)
    out: list[Measurement] = []

    def nothing() -> None:
        pass

    def check_all() -> tuple[bool, str]:
        return verify(engine, table, n, total)

    def check_sample() -> tuple[bool, str]:
        return verify(engine, table, sample, sample_total)

    # 1. the naive baselines, one statement per row (a sample, extrapolated)
    def per_row_core() -> None:
        insert = table.insert()
        with engine.begin() as conn:
            for row in sample_rows:
                conn.execute(insert, row)

    def per_row_orm() -> None:
        with Session(engine) as session, session.begin():
            for row in sample_rows:
                session.add(orm_class(**row))
                session.flush()

    for name, action in (("per-row Core INSERT (baseline)", per_row_core),
                         ("per-row ORM add+flush", per_row_orm)):
        secs, ok, note = measure(name, engine, table, args.repeat, nothing, action, check_sample)
        out.append(Measurement(name, "baseline", sample, secs, method="one INSERT per row",
                               extrapolated_to=n, verified=ok, note=note))

    # 2. bulk_insert: adapter defaults, then each method forced by a capability override
    def bulk_with(adapter: Adapter) -> Callable[[], None]:
        def load() -> None:
            with engine.begin() as conn:
                for start in range(0, n, batch):
                    adapter.bulk_insert(conn, table, rows[start:start + batch])
        return load

    default_method = base.caps.bulk_load
    plans: list[tuple[str, Adapter, str]] = [
        (f"bulk_insert default ({default_method})", base, "")]
    for method in BulkLoad:
        if method is default_method or (method is BulkLoad.COPY and not has_copy_path(base)):
            continue
        spec = f"bulk_load={method}"
        plans.append((f"bulk_insert {spec}", variant(base, spec), spec))
    for name, adapter, spec in plans:
        secs, ok, note = measure(name, engine, table, args.repeat, nothing, bulk_with(adapter),
                                 check_all)
        out.append(Measurement(name, "bulk_insert", n, secs, capabilities=spec,
                               method=str(adapter.caps.bulk_load), verified=ok, note=note))

    # 3. upsert: half the keys exist already, half are new; native style vs emulated
    u = args.upsert_rows or n
    existing = make_rows(0, u // 2)
    incoming = make_rows(0, u, version=1)
    upsert_total = expected_sum(incoming)

    def preload() -> None:
        with engine.begin() as conn:
            base.bulk_insert(conn, table, existing)

    def upsert_with(adapter: Adapter) -> Callable[[], None]:
        def load() -> None:
            with engine.begin() as conn:
                adapter.upsert(conn, table, incoming, keys=["id"])
        return load

    def check_upsert() -> tuple[bool, str]:
        return verify(engine, table, u, upsert_total)

    upsert_plans: list[tuple[str, Adapter, str]] = [
        (f"upsert default ({base.caps.upsert})", base, "")]
    if base.caps.upsert is not UpsertStyle.EMULATED:
        upsert_plans.append(("upsert upsert=emulated", variant(base, "upsert=emulated"),
                             "upsert=emulated"))
    for name, adapter, spec in upsert_plans:
        secs, ok, note = measure(name, engine, table, args.repeat, preload, upsert_with(adapter),
                                 check_upsert)
        out.append(Measurement(name, "upsert", u, secs, capabilities=spec,
                               method=str(adapter.caps.upsert), verified=ok,
                               note=note or f"{u // 2} existing keys updated, "
                                            f"{u - u // 2} new rows inserted"))

    with engine.begin() as conn:
        table.drop(conn, checkfirst=True)

    for m in out:
        m.finish()
    per_row = out[0].rows_per_s
    for m in out:
        m.ratio_vs_per_row = m.rows_per_s / per_row if per_row else None
    return out


# ----- databases: create if missing, skip if unreachable -----------------------------------

def ensure_database(raw_url: str, timeout: int) -> str:
    """Create the URL's database through the server's admin database; '' or a reason."""
    resolved = resolve_url(raw_url)
    url, name = resolved.url, resolved.url.database
    if resolved.declared == "sqlite" or not name:
        return "sqlite file cannot be reached"
    postgres_protocol = url.drivername.startswith("hpf_postgresql")
    admin = url.set(database="postgres" if postgres_protocol else "information_schema")
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool,
                              connect_args={"connect_timeout": timeout})
    try:
        with engine.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote(name)
            if postgres_protocol:
                found = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                     {"n": name}).first()
                if not found:
                    conn.exec_driver_sql(f"CREATE DATABASE {quoted} ENCODING 'UTF8' "
                                         "TEMPLATE template0")
            else:
                conn.exec_driver_sql(f"CREATE DATABASE IF NOT EXISTS {quoted} "
                                     "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        print(f"  (database {name!r} present or created on {resolved.display})", file=sys.stderr)
        return ""
    except (DBAPIError, SQLAlchemyError) as exc:
        return one_line(exc)
    finally:
        engine.dispose()


def hpf_reason(exc: HpfError) -> str:
    # Newer HpfErrors keep the operator's detail apart from the client's message.
    return getattr(exc, "for_operator", None) or exc.message


def one_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def open_bench_database(raw_url: str, timeout: int) -> tuple[Database | None, str]:
    settings = DatabaseSettings(connect_timeout=timeout)
    try:
        db = open_database(raw_url, settings)
    except HpfError as exc:
        return None, hpf_reason(exc)
    try:
        db.check_connection()
    except HpfError as first:
        db.dispose()
        reason = ensure_database(raw_url, timeout)
        if reason:
            return None, f"{hpf_reason(first)} (creating it failed too: {reason})"
        db = open_database(raw_url, settings)
        try:
            db.check_connection()
        except HpfError as exc:
            db.dispose()
            return None, hpf_reason(exc)
    try:
        _ = db.adapter  # detect the server now, so that failures are reported as a skip
    except HpfError as exc:
        db.dispose()
        return None, hpf_reason(exc)
    except (DBAPIError, ValueError) as exc:
        db.dispose()
        return None, one_line(exc)
    return db, ""


# ----- report -------------------------------------------------------------------------------

def machine_info() -> dict[str, object]:
    versions: dict[str, object] = {"sqlalchemy": sa.__version__}
    for module in ("psycopg2", "pymysql"):
        try:
            versions[module] = __import__(module).__version__
        except ImportError:
            versions[module] = None
    return _results.machine_info(**versions)


def print_database(result: DatabaseResult, n: int) -> None:
    print()
    print(f"== {result.server or '?'}  [{result.adapter}]  {result.url}")
    if result.skipped:
        print(f"   SKIPPED: {result.skipped}")
        return
    caps = result.default_capabilities
    print(f"   default capabilities: bulk_load={caps.get('bulk_load')} "
          f"upsert={caps.get('upsert')} max_bind_params={caps.get('max_bind_params')}")
    head = (f"   {'path':<40}{'rows':>8}{'median s':>10}{'min-max s':>15}"
            f"{f's @{n}':>12}{'rows/s':>11}{'x per-row':>10}")
    print(head)
    print("   " + "-" * (len(head) - 3))
    for m in result.measurements:
        mark = " *" if m.extrapolated_to else ""
        spread = f"{m.min_s:.3f}-{m.max_s:.3f}"
        ratio = f"{m.ratio_vs_per_row:.2f}" if m.ratio_vs_per_row is not None else "-"
        bad = "" if m.verified else f"   !! NOT VERIFIED: {m.note}"
        at_n = (f"~{m.extrapolated_s:.2f}" if m.extrapolated_s is not None
                else f"{m.median_s * n / m.rows:.2f}")
        print(f"   {m.name + mark:<40}{m.rows:>8}{m.median_s:>10.3f}{spread:>15}"
              f"{at_n:>12}{m.rows_per_s:>11,.0f}{ratio:>10}{bad}")
    samples = [m for m in result.measurements if m.extrapolated_to]
    if samples:
        s = samples[0]
        print(f"   * measured on a {s.rows}-row sample; rows/s and '~' seconds are "
              f"EXTRAPOLATED to {n} rows")
    ups = {m.capabilities: m for m in result.measurements if m.kind == "upsert"}
    if "" in ups and "upsert=emulated" in ups and ups["upsert=emulated"].median_s > 0:
        ratio = ups["upsert=emulated"].median_s / ups[""].median_s
        print(f"   upsert: native is {ratio:.2f}x the speed of emulated "
              f"({ups[''].note})")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", action="append", default=[],
                        help="database URL (repeatable); default: a temp SQLite file, "
                             "postgresql://postgres@127.0.0.1/hpf_bench, "
                             "mysql://root@127.0.0.1/hpf_bench")
    parser.add_argument("--rows", type=int, default=100_000, help="rows per bulk load")
    parser.add_argument("--baseline-rows", type=int, default=5000,
                        help="rows in the per-row baseline sample (extrapolated)")
    parser.add_argument("--upsert-rows", type=int, default=0,
                        help="rows per upsert (half existing keys); default --rows")
    parser.add_argument("--batch", type=int, default=10_000,
                        help="rows per bulk_insert call inside the one transaction "
                             "(0 = all rows in one call)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (median reported)")
    parser.add_argument("--connect-timeout", type=int, default=5)
    parser.add_argument("--out", default="", help="JSON file (default benchmarks/results/"
                                                  "db_paths-<timestamp>.json)")
    args = parser.parse_args(argv)
    if min(args.rows, args.baseline_rows, args.repeat) < 1 or args.batch < 0 \
            or args.upsert_rows < 0:
        parser.error("--rows, --baseline-rows and --repeat must be >= 1")

    started = datetime.now(UTC)
    tmp = tempfile.TemporaryDirectory(prefix="hpf-db-bench-")
    urls = args.url or [u.format(tmp=tmp.name) for u in DEFAULT_URLS]
    machine = machine_info()
    print(f"db_paths_bench: {machine['machine']}, {machine['cpu_count']} CPUs, "
          f"Python {machine['python']}, SQLAlchemy {machine['sqlalchemy']}; "
          f"rows={args.rows} baseline sample={min(args.baseline_rows, args.rows)} "
          f"batch={args.batch or args.rows} repeat={args.repeat}")

    results: list[DatabaseResult] = []
    try:
        for raw in urls:
            try:
                display = resolve_url(raw).display
            except HpfError as exc:
                results.append(DatabaseResult(raw, skipped=hpf_reason(exc)))
                print_database(results[-1], args.rows)
                continue
            print(f"\n[{display}]", file=sys.stderr, flush=True)
            db, reason = open_bench_database(raw, args.connect_timeout)
            if db is None:
                result = DatabaseResult(display, skipped=f"unreachable: {reason}")
            else:
                adapter = db.adapter
                result = DatabaseResult(display, adapter.server.label, adapter.product,
                                        adapter.caps.as_dict())
                try:
                    result.measurements = run_database(db, args)
                except HpfError as exc:
                    result.skipped = f"failed: {hpf_reason(exc)}"
                except SQLAlchemyError as exc:
                    result.skipped = f"failed: {one_line(exc)}"
                finally:
                    db.dispose()
            results.append(result)
            print_database(result, args.rows)
    except KeyboardInterrupt:
        print("\ninterrupted: writing what was measured so far", file=sys.stderr)
    finally:
        tmp.cleanup()

    document = {
        "machine": machine,
        "parameters": {"rows": args.rows, "baseline_rows": min(args.baseline_rows, args.rows),
                       "upsert_rows": args.upsert_rows or args.rows,
                       "batch": args.batch or args.rows, "repeat": args.repeat},
        "notes": ["seconds include COMMIT; the table is re-created before each repetition",
                  "baseline rows are a sample: rows_per_s is extrapolated to 'rows'",
                  "ratio_vs_per_row = rows_per_s / rows_per_s of per-row Core INSERT"],
        "databases": [asdict(r) for r in results],
    }
    _results.write_results("db_paths", started, document, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
