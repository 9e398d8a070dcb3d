"""MySQL and MariaDB over PyMySQL: utf8mb4, UTC sessions, strict SQL mode, GET_LOCK."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects.mysql.pymysql import MySQLDialect_pymysql
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from hpf_adapters.db.base import Adapter, Finding
from hpf_adapters.db.capabilities import BulkLoad, Capabilities, LockStyle, UpsertStyle
from hpf_adapters.db.versions import ServerInfo, parse_mysql_family

# Strict mode turns silent truncation into errors; money columns must never be clipped.
SQL_MODE = ("STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
            "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION")


class HpfMySQLDialect_pymysql(MySQLDialect_pymysql):
    """The stock dialect, but OceanBase's ``5.7.25-OceanBase_CE-v4.4.2.0`` is understood."""

    supports_statement_cache = True
    hpf_server: ServerInfo | None = None

    def _parse_server_version(self, val: str) -> tuple[int, ...]:
        info = parse_mysql_family(val)
        self.hpf_server = info
        if info.product == "oceanbase":
            return super()._parse_server_version(".".join(map(str, info.compat_version)))
        return super()._parse_server_version(val)


class MySQLAdapter(Adapter):
    product = "mysql"

    @classmethod
    def session_variables(cls, settings: Any) -> list[str]:
        return ["time_zone = '+00:00'", f"sql_mode = '{SQL_MODE}'"]

    @classmethod
    def engine_options(cls, settings: Any) -> dict[str, Any]:
        return {
            "isolation_level": "READ COMMITTED",
            "connect_args": {
                "charset": "utf8mb4",
                "connect_timeout": settings.connect_timeout,
                "init_command": "SET " + ", ".join(cls.session_variables(settings)),
            },
        }

    @classmethod
    def default_capabilities(cls, server: ServerInfo) -> Capabilities:
        return Capabilities(
            upsert=UpsertStyle.ON_DUPLICATE_KEY,
            skip_locked=server.version >= (8, 0, 1),
            named_lock=LockStyle.GET_LOCK,
            bulk_load=BulkLoad.MULTIROW,
            returning=False,
            sequences=False,
            transactional_ddl=False,
            max_bind_params=65535,
            isolation_levels=("READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"),
        )

    def now_sql(self) -> sa.ColumnElement[Any]:
        return sa.func.utc_timestamp(6)  # CURRENT_TIMESTAMP has whole seconds only

    def _upsert_statement(self, table, values, keys, columns):
        stmt = mysql.insert(table).values(values)
        sets = ({c: stmt.inserted[c] for c in columns} if columns
                else {keys[0]: table.c[keys[0]]})  # "do nothing": set the key to itself
        return stmt.on_duplicate_key_update(sets)

    def _try_native_lock(self, conn: Connection, name: str) -> bool:
        return conn.scalar(sa.text("SELECT GET_LOCK(:n, 0)"), {"n": _lock_name(name)}) == 1

    def _release_native_lock(self, conn: Connection, name: str) -> None:
        conn.execute(sa.text("SELECT RELEASE_LOCK(:n)"), {"n": _lock_name(name)})

    def doctor(self, conn: Connection) -> list[Finding]:
        v = {name: _variable(conn, name) for name in (
            "character_set_database", "collation_database", "character_set_connection",
            "session.time_zone", "global.time_zone", "system_time_zone", "sql_mode",
            "lower_case_table_names", "max_allowed_packet")}
        charset = str(v["character_set_database"]).lower()
        out = [
            Finding("ok", "charset", f"数据库字符集 {charset} / {v['collation_database']}")
            if charset == "utf8mb4" else
            Finding("fatal", "charset", f"数据库字符集为 {charset}，必须为 utf8mb4"
                    "（生僻字姓名需要 4 字节字符）：ALTER DATABASE ... CHARACTER SET utf8mb4"),
            Finding("ok", "connection_charset", "连接字符集 utf8mb4")
            if str(v["character_set_connection"]).lower() == "utf8mb4" else
            Finding("fatal", "connection_charset",
                    f"连接字符集为 {v['character_set_connection']}，应为 utf8mb4"),
            Finding("ok", "session_time_zone", "会话时区为 UTC (+00:00)")
            if v["session.time_zone"] in ("+00:00", "UTC") else
            Finding("fatal", "session_time_zone", f"会话时区为 {v['session.time_zone']}，应为 +00:00"),
            Finding("info", "server_time_zone",
                    f"服务器时区 {v['global.time_zone']} (系统 {v['system_time_zone']})，"
                    "会话已设为 UTC"),
            Finding("ok", "sql_mode", "严格模式已启用 (STRICT_TRANS_TABLES)")
            if "STRICT_TRANS_TABLES" in str(v["sql_mode"]) else
            Finding("fatal", "sql_mode", f"会话 sql_mode 未启用严格模式: {v['sql_mode']}"),
            Finding("info", "lower_case_table_names",
                    f"lower_case_table_names = {v['lower_case_table_names']}"),
        ]
        packet = int(v["max_allowed_packet"] or 0)
        out.append(Finding("ok", "max_allowed_packet", f"max_allowed_packet = {packet // 1048576} MB")
                   if packet >= 16 * 1048576 else
                   Finding("warning", "max_allowed_packet",
                           f"max_allowed_packet 仅 {packet // 1048576} MB，批量写入建议至少 16 MB"))
        return out


class MariaDBAdapter(MySQLAdapter):
    product = "mariadb"

    @classmethod
    def default_capabilities(cls, server: ServerInfo) -> Capabilities:
        return dataclasses.replace(
            super().default_capabilities(server),
            skip_locked=server.version >= (10, 6),
            returning=server.version >= (10, 5),
            sequences=server.version >= (10, 3),
        )

    def _allocate_native(self, conn: Connection, name: str, count: int) -> list[int]:
        quoted = conn.dialect.identifier_preparer.quote(name)
        return [conn.exec_driver_sql(f"SELECT NEXTVAL({quoted})").scalar()
                for _ in range(count)]


def _variable(conn: Connection, name: str) -> Any:
    try:
        return conn.exec_driver_sql(f"SELECT @@{name}").scalar()
    except DBAPIError:  # a variable this server does not have
        return None


def _lock_name(name: str) -> str:
    # MySQL lock names are limited to 64 characters.
    return name if len(name) <= 64 else "hpf:" + hashlib.sha1(name.encode()).hexdigest()  # noqa: S324
