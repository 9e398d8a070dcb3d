"""The adapter contract and the portable implementations every database can run.

A product adapter (postgresql.py, mysql.py, ...) subclasses ``Adapter`` and overrides the
fast paths it has; each public operation looks at ``self.caps`` and calls either the fast
path or the portable fallback defined here. That is how "switch the capability off" works:
the same adapter, the fallback path.
"""

from __future__ import annotations

import abc
import contextlib
import hashlib
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from hpf.domain.errors import ConfigError, Conflict
from hpf_adapters.db.capabilities import BulkLoad, Capabilities, LockStyle, UpsertStyle
from hpf_adapters.db.support import SupportTables
from hpf_adapters.db.versions import ServerInfo

Row = Mapping[str, Any]


class LockTimeout(Conflict):
    code = "lock_timeout"
    message = "资源正被其他操作占用，请稍后重试"


@dataclass(frozen=True)
class Finding:
    """One line of ``hpf db doctor``: level is ok, info, warning or fatal."""

    level: str
    check: str
    message: str


class Adapter(abc.ABC):
    product: ClassVar[str] = ""
    # How many rows one multi-row INSERT carries at most, whatever the bind-parameter limit.
    multirow_chunk: ClassVar[int] = 1000

    def __init__(self, engine: Engine, server: ServerInfo, caps: Capabilities,
                 support: SupportTables | None) -> None:
        self.engine = engine
        self.server = server
        self.caps = caps
        self.support = support
        self._statements: dict[tuple, tuple] = {}  # compiled multi-row INSERTs by chunk size

    def with_capabilities(self, overrides: str) -> Adapter:
        """The same adapter with some capabilities switched (tests of every fallback path)."""
        return type(self)(self.engine, self.server, self.caps.with_overrides(overrides),
                          self.support)

    # ----- engine and session (class level: used before the server is known) -------------
    @classmethod
    def engine_options(cls, settings: Any) -> dict[str, Any]:
        return {}

    @classmethod
    def install_session_setup(cls, engine: Engine, settings: Any) -> None:
        """Register connect-time session setup (charset, time zone, isolation).

        Optional: the MySQL family sets its session through ``init_command`` instead.
        """
        return None

    @classmethod
    @abc.abstractmethod
    def default_capabilities(cls, server: ServerInfo) -> Capabilities:
        """What this product can do at this version (each product adapter says)."""

    def now_sql(self) -> sa.ColumnElement[Any]:
        return sa.func.current_timestamp()

    def db_now(self, conn: Connection) -> datetime:
        """The database server's clock, aware UTC (leases use it so app clocks may drift)."""
        value = conn.execute(sa.select(self.now_sql())).scalar_one()
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def doctor(self, conn: Connection) -> list[Finding]:
        return []

    # ----- upsert -----------------------------------------------------------------------
    def upsert(self, conn: Connection, table: sa.Table, rows: Sequence[Row],
               keys: Sequence[str], update: Sequence[str] | None = None) -> None:
        """Insert rows; where a row's ``keys`` already exist, overwrite ``update`` columns."""
        if not rows:
            return
        columns = update if update is not None else [c for c in rows[0] if c not in keys]
        if self.caps.upsert is UpsertStyle.EMULATED:
            self._upsert_emulated(conn, table, rows, keys, columns)
        else:  # multi-row INSERT ... ON CONFLICT / ON DUPLICATE KEY, compiled once per size
            self._execute_multirow(
                conn, table, rows, ("upsert", tuple(keys), tuple(columns)),
                lambda values: self._upsert_statement(table, values, keys, columns))

    def _upsert_statement(self, table: sa.Table, values: list[dict], keys: Sequence[str],
                          columns: Sequence[str]) -> sa.Executable:
        """Multi-row INSERT of ``values`` with this product's ON CONFLICT/DUPLICATE KEY."""
        raise self._not_here("upsert", self.caps.upsert)

    def _upsert_emulated(self, conn: Connection, table: sa.Table, rows: Sequence[Row],
                         keys: Sequence[str], columns: Sequence[str]) -> None:
        key_cols = [table.c[k] for k in keys]
        existing: set[tuple[Any, ...]] = set()
        for chunk in _chunks(rows, self._rows_per_statement(len(keys))):
            wanted = [tuple(r[k] for k in keys) for r in chunk]
            cond = (key_cols[0].in_([w[0] for w in wanted]) if len(keys) == 1
                    else sa.tuple_(*key_cols).in_(wanted))
            existing.update(tuple(r) for r in conn.execute(sa.select(*key_cols).where(cond)))
        old = [r for r in rows if tuple(r[k] for k in keys) in existing]
        new = [r for r in rows if tuple(r[k] for k in keys) not in existing]
        if old and columns:
            stmt = (sa.update(table)
                    .where(*[c == sa.bindparam(f"k_{c.name}") for c in key_cols])
                    .values({c: sa.bindparam(f"v_{c}") for c in columns}))
            conn.execute(stmt, [{**{f"k_{k}": r[k] for k in keys},
                                 **{f"v_{c}": r[c] for c in columns}} for r in old])
        if new:
            self._bulk_multirow(conn, table, new)

    # ----- bulk insert ------------------------------------------------------------------
    def bulk_insert(self, conn: Connection, table: sa.Table, rows: Sequence[Row]) -> int:
        """Load many rows inside the caller's transaction; returns the number loaded."""
        if not rows:
            return 0
        if self.caps.bulk_load is BulkLoad.COPY:
            self._bulk_copy(conn, table, rows)
        elif self.caps.bulk_load is BulkLoad.MULTIROW:
            self._bulk_multirow(conn, table, rows)
        else:
            conn.execute(table.insert(), list(rows))
        return len(rows)

    def _bulk_copy(self, conn: Connection, table: sa.Table, rows: Sequence[Row]) -> None:
        raise self._not_here("bulk_load", self.caps.bulk_load)

    def _rows_per_statement(self, columns: int) -> int:
        return max(1, min(self.multirow_chunk, self.caps.max_bind_params // max(1, columns)))

    def _bulk_multirow(self, conn: Connection, table: sa.Table, rows: Sequence[Row]) -> None:
        """``INSERT ... VALUES (...), (...), ...``: one statement per chunk of rows."""
        self._execute_multirow(conn, table, rows, ("insert",),
                               lambda values: table.insert().values(values))

    def _execute_multirow(self, conn: Connection, table: sa.Table, rows: Sequence[Row],
                          kind: tuple, build) -> None:
        """Run ``build(<one dict of bind parameters per row>)`` for each chunk of rows.

        SQLAlchemy recompiles a multi-VALUES INSERT on every execution (they are not
        cached), which made multi-row paths slower than one INSERT per row. So the SQL for a
        (statement kind, chunk size) is compiled once and sent to the driver with the column
        types' bind processors applied, as the COPY path does.
        """
        names = tuple(rows[0])
        processors = [table.c[n].type._cached_bind_processor(conn.dialect) for n in names]
        for chunk in _chunks(rows, self._rows_per_statement(len(names))):
            key = (table, names, len(chunk), kind)
            if key not in self._statements:
                cols = [table.c[n] for n in names]
                stmt = build([
                    {c.name: sa.bindparam(f"r{i}_{j}", type_=c.type) for j, c in enumerate(cols)}
                    for i in range(len(chunk))])
                compiled = stmt.compile(dialect=conn.dialect)
                order = tuple(compiled.positiontup) if compiled.positional else None
                self._statements[key] = (str(compiled), order)
            sql, order = self._statements[key]
            values = {}
            for i, row in enumerate(chunk):
                for j, (name, proc) in enumerate(zip(names, processors, strict=True)):
                    value = row[name]
                    values[f"r{i}_{j}"] = proc(value) if proc is not None else value
            conn.exec_driver_sql(sql, tuple(values[k] for k in order) if order else values)

    # ----- bulk update ------------------------------------------------------------------
    def bulk_update(self, conn: Connection, table: sa.Table, key: str, rows: Sequence[Row]) -> int:
        """Set the other columns of each row where ``key`` matches, in the caller's
        transaction. Portable path: one prepared UPDATE sent as an executemany; PostgreSQL
        loads a temporary table with COPY and joins it once."""
        if not rows:
            return 0
        names = [n for n in rows[0] if n != key]
        stmt = (table.update().where(table.c[key] == sa.bindparam(f"k_{key}"))
                .values({n: sa.bindparam(f"v_{n}") for n in names}))
        conn.execute(stmt, [{f"k_{key}": r[key], **{f"v_{n}": r[n] for n in names}} for r in rows])
        return len(rows)

    # ----- RETURNING --------------------------------------------------------------------
    def insert_returning(self, conn: Connection, table: sa.Table, rows: Sequence[Row],
                         columns: Sequence[str]) -> list[tuple[Any, ...]]:
        """Insert rows and return ``columns`` of each inserted row, in input order."""
        if not rows:
            return []
        cols = [table.c[c] for c in columns]
        if self.caps.returning:
            result = conn.execute(
                table.insert().returning(*cols, sort_by_parameter_order=True), list(rows))
            return [tuple(r) for r in result]
        pk = list(table.primary_key.columns)
        out = []
        for row in rows:  # fallback: one statement per row, then read back by primary key
            key = conn.execute(table.insert().values(row)).inserted_primary_key
            cond = [c == v for c, v in zip(pk, key, strict=True)]
            out.append(tuple(conn.execute(sa.select(*cols).where(*cond)).one()))
        return out

    # ----- claiming work rows (SKIP LOCKED) ---------------------------------------------
    def claim(self, conn: Connection, table: sa.Table, key: str, where: sa.ColumnElement[bool],
              limit: int, values: Row) -> list[Any]:
        """Mark up to ``limit`` rows matching ``where`` with ``values``; return their keys.

        With SKIP LOCKED, concurrent workers take disjoint rows without waiting. The fallback
        claims candidates one by one with a guarded UPDATE (``where`` repeated), so a row
        another worker already took is simply not counted.
        """
        key_col = table.c[key]
        pick = sa.select(key_col).where(where).order_by(key_col).limit(limit)
        if self.caps.skip_locked:
            ids = list(conn.execute(pick.with_for_update(skip_locked=True)).scalars())
            if ids:
                conn.execute(sa.update(table).where(key_col.in_(ids)).values(**values))
            return ids
        claimed = []
        for candidate in list(conn.execute(pick).scalars()):
            result = conn.execute(
                sa.update(table).where(key_col == candidate, where).values(**values))
            if result.rowcount == 1:
                claimed.append(candidate)
        return claimed

    # ----- sequences --------------------------------------------------------------------
    def allocate(self, name: str, count: int = 1) -> list[int]:
        """Reserve ``count`` numbers from a named sequence (gaps allowed, never reused).

        Runs in its own short transaction so that a business transaction never holds the
        counter; numbers of a rolled-back business transaction are simply skipped.
        """
        if count < 1:
            raise ValueError("count must be positive")
        if self.caps.sequences:
            try:
                with self.engine.begin() as conn:
                    return self._allocate_native(conn, name, count)
            except DBAPIError:
                # The sequence is missing (a migration that judged the server without sequences,
                # or a server upgraded since): create it once and draw again.
                with self.engine.begin() as conn:
                    self.create_sequence(conn, name)
                with self.engine.begin() as conn:
                    return self._allocate_native(conn, name, count)
        return self._allocate_table(name, count)

    def _allocate_native(self, conn: Connection, name: str, count: int) -> list[int]:
        seq = sa.Sequence(name)
        return [conn.scalar(seq.next_value()) for _ in range(count)]

    def _allocate_table(self, name: str, count: int) -> list[int]:
        table = self._support().sequence
        for _ in range(3):
            with self.engine.begin() as conn:
                bumped = conn.execute(sa.update(table).where(table.c.name == name)
                                      .values(next_value=table.c.next_value + count))
                if bumped.rowcount == 1:
                    end = conn.scalar(sa.select(table.c.next_value)
                                      .where(table.c.name == name))
                    return list(range(end - count, end))
            try:
                with self.engine.begin() as conn:
                    conn.execute(table.insert().values(name=name, next_value=1 + count))
                return list(range(1, 1 + count))
            except IntegrityError:
                continue  # another process created the counter first; bump it instead
        raise LockTimeout(f"无法分配序列号 {name}")

    def create_sequence(self, conn: Connection, name: str) -> None:
        """DDL for migrations: a native sequence where the server has them."""
        if self.caps.sequences:
            conn.execute(sa.schema.CreateSequence(sa.Sequence(name), if_not_exists=True))

    # ----- named locks and leases --------------------------------------------------------
    @contextlib.contextmanager
    def named_lock(self, conn: Connection, name: str, timeout: float = 10.0) -> Iterator[None]:
        """Hold a cluster-wide mutex called ``name`` for the ``with`` block."""
        style = self.caps.named_lock
        deadline = time.monotonic() + timeout
        if style is LockStyle.TABLE:
            holder = f"lock:{uuid.uuid4().hex}"
            ttl = max(60.0, timeout * 2)
            _wait_until(lambda: self.acquire_lease(name, holder, ttl), deadline, name)
            try:
                yield
            finally:
                self.release_lease(name, holder)
            return
        _wait_until(lambda: self._try_native_lock(conn, name), deadline, name)
        try:
            yield
        finally:
            self._release_native_lock(conn, name)

    def _try_native_lock(self, conn: Connection, name: str) -> bool:
        raise self._not_here("named_lock", self.caps.named_lock)

    def _release_native_lock(self, conn: Connection, name: str) -> None:
        raise self._not_here("named_lock", self.caps.named_lock)

    def _not_here(self, capability: str, value: object) -> ConfigError:
        """A fast path this product lacks was switched on by a capability override."""
        return ConfigError(f"{self.server.label} 不支持 {capability}={value}；"
                           f"请修改 [database] capabilities")

    def acquire_lease(self, name: str, holder: str, ttl: float) -> bool:
        """Take or renew the lease ``name`` for ``ttl`` seconds; False if someone else holds it.

        Portable: one guarded UPDATE (ours, or expired) and, for a new name, an INSERT that
        the primary key makes race-free. Times come from the database clock.
        """
        lock = self._support().lock
        with self.engine.begin() as conn:
            now = self.db_now(conn)
            taken = conn.execute(
                sa.update(lock)
                .where(lock.c.name == name,
                       sa.or_(lock.c.holder == holder, lock.c.expires_at < now))
                .values(holder=holder, acquired_at=now, expires_at=now + timedelta(seconds=ttl)))
            if taken.rowcount == 1:
                return True
            exists = conn.scalar(sa.select(sa.func.count()).where(lock.c.name == name))
        if exists:
            return False
        try:
            with self.engine.begin() as conn:
                now = self.db_now(conn)
                conn.execute(lock.insert().values(name=name, holder=holder, acquired_at=now,
                                                  expires_at=now + timedelta(seconds=ttl)))
            return True
        except IntegrityError:
            return False

    def release_lease(self, name: str, holder: str) -> None:
        lock = self._support().lock
        with self.engine.begin() as conn:
            conn.execute(sa.delete(lock).where(lock.c.name == name, lock.c.holder == holder))

    def lease_holder(self, name: str) -> tuple[str, datetime] | None:
        lock = self._support().lock
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(lock.c.holder, lock.c.expires_at)
                               .where(lock.c.name == name)).first()
        return (row.holder, row.expires_at) if row else None

    def _support(self) -> SupportTables:
        if self.support is None:
            raise RuntimeError("support tables not bound to this adapter")
        return self.support


def on_conflict_upsert(insert, table: sa.Table, values: list[dict], keys: Sequence[str],
                       columns: Sequence[str]) -> sa.Executable:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE/NOTHING`` with PostgreSQL's or SQLite's
    ``insert`` construct (they share the syntax)."""
    stmt = insert(table).values(values)
    if columns:
        return stmt.on_conflict_do_update(index_elements=list(keys),
                                          set_={c: stmt.excluded[c] for c in columns})
    return stmt.on_conflict_do_nothing(index_elements=list(keys))


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for advisory-lock functions."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big",
                          signed=True)


def _wait_until(attempt, deadline: float, name: str) -> None:
    pause = 0.02
    while not attempt():
        if time.monotonic() >= deadline:
            raise LockTimeout(details={"lock": name})
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


def _chunks(rows: Sequence[Row], size: int) -> Iterable[Sequence[Row]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]
