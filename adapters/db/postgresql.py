"""PostgreSQL (psycopg2): COPY bulk load, ON CONFLICT, advisory locks, SKIP LOCKED."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql.psycopg2 import PGDialect_psycopg2
from sqlalchemy.engine import Connection, Engine

from hpf_adapters.db.base import Adapter, Finding, Row, lock_key, on_conflict_upsert
from hpf_adapters.db.capabilities import BulkLoad, Capabilities, LockStyle, UpsertStyle
from hpf_adapters.db.versions import ServerInfo, parse_postgresql_family


class HpfPGDialect_psycopg2(PGDialect_psycopg2):
    """The stock dialect, but it understands openGauss-family version strings."""

    supports_statement_cache = True
    hpf_server: ServerInfo | None = None

    def _get_server_version_info(self, connection):
        text = connection.exec_driver_sql("select pg_catalog.version()").scalar()
        self.hpf_server = parse_postgresql_family(text)
        return self.hpf_server.compat_version


class PostgreSQLAdapter(Adapter):
    product = "postgresql"

    @classmethod
    def engine_options(cls, settings: Any) -> dict[str, Any]:
        return {
            "isolation_level": "READ COMMITTED",
            "connect_args": {"connect_timeout": settings.connect_timeout,
                             "application_name": "hpf-core",
                             "client_encoding": "utf8"},
        }

    @classmethod
    def install_session_setup(cls, engine: Engine, settings: Any) -> None:
        @event.listens_for(engine, "connect")
        def _setup(dbapi_conn, _record):
            # Timestamps are stored and compared in UTC; business dates are computed in the
            # application (Asia/Shanghai), never by the server's time zone.
            with dbapi_conn.cursor() as cur:
                cur.execute("SET TIME ZONE 'UTC'")
            dbapi_conn.commit()

    @classmethod
    def default_capabilities(cls, server: ServerInfo) -> Capabilities:
        return Capabilities(
            upsert=UpsertStyle.ON_CONFLICT,
            skip_locked=server.version >= (9, 5),
            named_lock=LockStyle.ADVISORY,
            bulk_load=BulkLoad.COPY,
            returning=True,
            sequences=True,
            transactional_ddl=True,
            max_bind_params=32767,
            isolation_levels=("READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"),
        )

    def _upsert_statement(self, table, values, keys, columns):
        return on_conflict_upsert(postgresql.insert, table, values, keys, columns)

    def _bulk_copy(self, conn: Connection, table: sa.Table, rows: Sequence[Row]) -> None:
        names = list(rows[0])
        cols = [table.c[n] for n in names]
        dialect = conn.dialect
        processors = [c.type.bind_processor(dialect) for c in cols]  # honour TypeDecorators
        buf = io.StringIO()
        for row in rows:
            fields = []
            for name, proc in zip(names, processors, strict=True):
                value = row[name]
                if proc is not None:
                    value = proc(value)
                fields.append(_copy_field(value))
            buf.write(",".join(fields))
            buf.write("\n")
        buf.seek(0)
        column_list = ", ".join(dialect.identifier_preparer.quote(n) for n in names)
        target = dialect.identifier_preparer.format_table(table)
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.copy_expert(
                f"COPY {target} ({column_list}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buf)
        finally:
            cursor.close()

    def bulk_update(self, conn: Connection, table: sa.Table, key: str, rows: Sequence[Row]) -> int:
        if len(rows) < 1000 or self.caps.bulk_load is not BulkLoad.COPY:
            return super().bulk_update(conn, table, key, rows)
        names = list(rows[0])
        quote = conn.dialect.identifier_preparer.quote
        staging = sa.Table(f"tmp_upd_{table.name}", sa.MetaData(),
                           *(sa.Column(n, table.c[n].type) for n in names), prefixes=["TEMPORARY"])
        column_list = ", ".join(f"{quote(n)} {table.c[n].type.compile(conn.dialect)}" for n in names)
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {quote(staging.name)} ({column_list}) ON COMMIT DROP")
        self._bulk_copy(conn, staging, rows)
        target = conn.dialect.identifier_preparer.format_table(table)
        sets = ", ".join(f"{quote(n)} = s.{quote(n)}" for n in names if n != key)
        conn.exec_driver_sql(f"UPDATE {target} SET {sets} FROM {quote(staging.name)} s "
                             f"WHERE {target}.{quote(key)} = s.{quote(key)}")
        conn.exec_driver_sql(f"DROP TABLE {quote(staging.name)}")  # a second batch in one txn
        return len(rows)

    def _allocate_native(self, conn: Connection, name: str, count: int) -> list[int]:
        return list(conn.execute(
            sa.text("SELECT nextval(:seq) FROM generate_series(1, :n)"),
            {"seq": name, "n": count}).scalars())

    def _try_native_lock(self, conn: Connection, name: str) -> bool:
        return bool(conn.scalar(sa.text("SELECT pg_try_advisory_lock(:k)"),
                                {"k": lock_key(name)}))

    def _release_native_lock(self, conn: Connection, name: str) -> None:
        conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(name)})

    def doctor(self, conn: Connection) -> list[Finding]:
        show = {name: conn.exec_driver_sql(f"SHOW {name}").scalar()
                for name in ("server_encoding", "client_encoding", "TimeZone",
                             "standard_conforming_strings", "default_transaction_isolation")}
        server_tz = conn.exec_driver_sql(
            "SELECT reset_val FROM pg_settings WHERE name = 'TimeZone'").scalar()
        out = [
            _check("fatal", "server_encoding", show["server_encoding"].upper() == "UTF8",
                   f"数据库编码为 {show['server_encoding']}",
                   "数据库编码必须为 UTF8 (CREATE DATABASE ... ENCODING 'UTF8')"),
            _check("fatal", "client_encoding", show["client_encoding"].upper() == "UTF8",
                   f"客户端编码为 {show['client_encoding']}", "会话客户端编码不是 UTF8"),
            _check("fatal", "session_time_zone", show["TimeZone"].upper() in ("UTC", "ETC/UTC"),
                   "会话时区为 UTC", f"会话时区为 {show['TimeZone']}，应为 UTC"),
            Finding("info", "server_time_zone", f"服务器默认时区 {server_tz} (会话已设为 UTC)"),
            _check("warning", "standard_conforming_strings",
                   show["standard_conforming_strings"] == "on",
                   "standard_conforming_strings = on", "standard_conforming_strings 应为 on"),
            Finding("info", "isolation",
                    f"服务器默认隔离级别 {show['default_transaction_isolation']}，"
                    f"应用会话使用 READ COMMITTED"),
        ]
        return out


def _check(level: str, name: str, ok: bool, good: str, bad: str) -> Finding:
    return Finding("ok", name, good) if ok else Finding(level, name, bad)


def _copy_field(value: Any) -> str:
    """One CSV field for COPY: NULL is an unquoted \\N, everything else is quoted."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        text = "t" if value else "f"
    elif isinstance(value, (datetime, date)):
        text = value.isoformat()
    elif isinstance(value, Decimal):
        text = format(value, "f")
    elif isinstance(value, bytes):
        text = "\\x" + value.hex()
    else:
        text = str(value)
    return '"' + text.replace('"', '""') + '"'

