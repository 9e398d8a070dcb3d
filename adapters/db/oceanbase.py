"""OceanBase in MySQL mode (PyMySQL), e.g. ``oceanbase://root%40test:@host:2881/hpf``.

What differs from MySQL (TLCP_AND_DATABASES B3): the version string
``5.7.25-OceanBase_CE-v4.4.2.0`` (MySQL 5.7 SQL, OceanBase 4.4 engine); short default
query/transaction timeouts (10 s / 100 s) that end large batches with error 4012, so each
session raises them; ``GET_LOCK`` is missing on 3.x and early 4.x, so named locks use the
lock table; SKIP LOCKED is left off until an operator has tested it on their release;
AUTO_INCREMENT values jump between nodes, so no code assumes contiguous ids.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy.engine import Connection

from hpf_adapters.db.base import Finding
from hpf_adapters.db.capabilities import Capabilities, LockStyle
from hpf_adapters.db.mysql import MySQLAdapter, _variable
from hpf_adapters.db.versions import ServerInfo

_US = 1_000_000  # OceanBase timeouts are in microseconds


class OceanBaseAdapter(MySQLAdapter):
    product = "oceanbase"
    multirow_chunk = 500  # keep each statement well inside the query timeout

    @classmethod
    def session_variables(cls, settings: Any) -> list[str]:
        return [*super().session_variables(settings),
                f"ob_query_timeout = {settings.ob_query_timeout * _US}",
                f"ob_trx_timeout = {settings.ob_trx_timeout * _US}"]

    @classmethod
    def default_capabilities(cls, server: ServerInfo) -> Capabilities:
        return dataclasses.replace(
            super().default_capabilities(server),
            skip_locked=False,
            named_lock=LockStyle.TABLE,
            returning=False,
            sequences=False,  # MySQL mode has no sequences
            isolation_levels=("READ COMMITTED", "REPEATABLE READ"),
        )

    def doctor(self, conn: Connection) -> list[Finding]:
        out = super().doctor(conn)
        mode = _variable(conn, "ob_compatibility_mode")
        if mode is not None and str(mode).upper() != "MYSQL":
            out.append(Finding("fatal", "compatibility",
                               f"租户兼容模式为 {mode}，HPF Core 需要 MySQL 模式租户"))
        for name in ("ob_query_timeout", "ob_trx_timeout"):
            value = _variable(conn, name)
            if value is not None:
                out.append(Finding("info", name, f"{name} = {int(value) // _US} 秒"))
        return out
