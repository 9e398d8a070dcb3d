"""openGauss (and MogDB/GaussDB/Vastbase) over the PostgreSQL protocol.

Differences from PostgreSQL that matter here (see docs/operations.md, TLCP_AND_DATABASES
B1/B2): the version string is its own, the kernel is PostgreSQL 9.2.4-level for SQL
generation, upsert is ``ON DUPLICATE KEY UPDATE`` (``ON CONFLICT`` is a syntax error on
released versions), SERIALIZABLE is not offered, and a database in compatibility mode A
(Oracle) turns '' into NULL, which the application cannot accept.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.dml import Insert

from hpf_adapters.db.base import Finding
from hpf_adapters.db.capabilities import Capabilities, UpsertStyle
from hpf_adapters.db.postgresql import PostgreSQLAdapter
from hpf_adapters.db.versions import ServerInfo


class OpenGaussUpsert(Insert):
    """``INSERT ... ON DUPLICATE KEY UPDATE col = EXCLUDED.col`` for openGauss.

    openGauss ignores a conflict target and uses any unique key; callers upsert on tables
    whose only unique key is the one they name.
    """

    inherit_cache = False

    def __init__(self, table, update_columns):
        super().__init__(table)
        self.update_columns = list(update_columns)


@compiles(OpenGaussUpsert, "postgresql")
def _compile_opengauss_upsert(element: OpenGaussUpsert, compiler, **kw):
    sql = compiler.visit_insert(element, **kw)
    if not element.update_columns:
        return sql + " ON DUPLICATE KEY UPDATE NOTHING"
    quote = compiler.preparer.quote
    sets = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in element.update_columns)
    return f"{sql} ON DUPLICATE KEY UPDATE {sets}"


class OpenGaussAdapter(PostgreSQLAdapter):
    product = "opengauss"

    @classmethod
    def default_capabilities(cls, server: ServerInfo) -> Capabilities:
        # Text COPY works on openGauss (binary COPY differs and is never used).
        return dataclasses.replace(
            super().default_capabilities(server),
            upsert=UpsertStyle.ON_DUPLICATE_KEY,
            skip_locked=server.version >= (3, 1),
            isolation_levels=("READ COMMITTED", "REPEATABLE READ"),
        )

    def _upsert_statement(self, table, values, keys, columns):
        return OpenGaussUpsert(table, columns).values(values)

    def doctor(self, conn: Connection) -> list[Finding]:
        out = super().doctor(conn)
        mode = conn.exec_driver_sql(
            "SELECT datcompatibility FROM pg_database WHERE datname = current_database()"
        ).scalar()
        if str(mode).upper() == "PG":
            out.append(Finding("ok", "compatibility", "数据库兼容模式 PG"))
        else:
            out.append(Finding("fatal", "compatibility",
                               f"数据库兼容模式为 {mode}，空字符串会被当作 NULL；请用 "
                               "CREATE DATABASE ... DBCOMPATIBILITY 'PG' 创建业务库"))
        return out
