"""SQLite, the embedded default for evaluation and the demo (one file in the instance folder)."""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, Engine

from hpf_adapters.db.base import Adapter, Finding, on_conflict_upsert
from hpf_adapters.db.capabilities import BulkLoad, Capabilities, LockStyle, UpsertStyle
from hpf_adapters.db.versions import ServerInfo

# Execution option for connections that only read: ``engine.connect().execution_options(
# hpf_read_only=True)``. Other databases need nothing special for it.
READ_ONLY = "hpf_read_only"


class SQLiteAdapter(Adapter):
    product = "sqlite"

    @classmethod
    def engine_options(cls, settings: Any) -> dict[str, Any]:
        # Several gunicorn workers share the file: wait for the write lock instead of failing.
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}

    @classmethod
    def install_session_setup(cls, engine: Engine, settings: Any) -> None:
        @event.listens_for(engine, "connect")
        def _setup(dbapi_conn, _record):
            # Let SQLAlchemy, not pysqlite, decide when transactions begin (SQLAlchemy docs,
            # "Serializable isolation / Savepoints / Transactional DDL" for pysqlite).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys = ON")
            cur.execute("PRAGMA busy_timeout = 30000")
            if engine.url.database not in (None, "", ":memory:"):
                cur.execute("PRAGMA journal_mode = WAL")
                cur.execute("PRAGMA synchronous = NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            if conn.get_execution_options().get(READ_ONLY):
                # A declared reader (key loading, integrity scans) takes a WAL snapshot and no
                # write lock, so it never waits for, or blocks, the writer.
                conn.exec_driver_sql("BEGIN")
                return
            # IMMEDIATE takes the write lock up front: a deferred transaction that reads and
            # then writes fails at once with "database is locked" when another writer is
            # active (no busy wait on lock upgrade); IMMEDIATE waits its turn instead.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    @classmethod
    def default_capabilities(cls, server: ServerInfo) -> Capabilities:
        return Capabilities(
            upsert=UpsertStyle.ON_CONFLICT if server.version >= (3, 24) else UpsertStyle.EMULATED,
            skip_locked=False,  # one writer at a time: nothing to skip
            named_lock=LockStyle.TABLE,
            bulk_load=BulkLoad.MULTIROW,
            returning=server.version >= (3, 35),
            sequences=False,
            transactional_ddl=True,
            max_bind_params=32766 if server.version >= (3, 32) else 999,
            isolation_levels=("SERIALIZABLE",),
        )

    def now_sql(self) -> sa.ColumnElement[Any]:
        return sa.func.strftime("%Y-%m-%d %H:%M:%f", "now")

    def _upsert_statement(self, table, values, keys, columns):
        return on_conflict_upsert(sqlite.insert, table, values, keys, columns)

    def doctor(self, conn: Connection) -> list[Finding]:
        fk = conn.exec_driver_sql("PRAGMA foreign_keys").scalar()
        journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        encoding = conn.exec_driver_sql("PRAGMA encoding").scalar()
        return [
            Finding("ok", "foreign_keys", "外键约束已启用") if fk == 1 else
            Finding("fatal", "foreign_keys", "外键约束未启用"),
            Finding("ok", "encoding", f"编码 {encoding}") if str(encoding).upper() == "UTF-8"
            else Finding("fatal", "encoding", f"编码为 {encoding}，应为 UTF-8"),
            Finding("info", "journal_mode", f"日志模式 {journal}"),
            Finding("warning", "embedded",
                    f"SQLite {sqlite3.sqlite_version} 为内嵌评估数据库，生产请使用 openGauss、"
                    "OceanBase、PostgreSQL 或 MySQL"),
        ]
