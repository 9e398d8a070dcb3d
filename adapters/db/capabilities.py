"""What a database can do, as flags the code above the adapter asks for.

Code outside ``hpf_adapters.db`` never branches on a database name: it calls an adapter
operation (upsert, bulk_insert, named_lock, claim, allocate, insert_returning) and the
adapter picks the fast path or the portable fallback from these flags. Operators can switch
a fast path off (``[database] capabilities = skip_locked=off``) when their server version
misbehaves; tests do the same to exercise every fallback on PostgreSQL and MariaDB.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum

from hpf.domain.errors import ConfigError


class UpsertStyle(StrEnum):
    ON_CONFLICT = "on_conflict"            # INSERT ... ON CONFLICT (key) DO UPDATE
    ON_DUPLICATE_KEY = "on_duplicate_key"  # INSERT ... ON DUPLICATE KEY UPDATE
    EMULATED = "emulated"                  # UPDATE existing + INSERT missing (portable)


class LockStyle(StrEnum):
    ADVISORY = "advisory"  # pg_try_advisory_lock (PostgreSQL, openGauss)
    GET_LOCK = "get_lock"  # GET_LOCK/RELEASE_LOCK (MySQL, MariaDB)
    TABLE = "table"        # a row with an expiry in hpf_lock (portable)


class BulkLoad(StrEnum):
    COPY = "copy"                # COPY ... FROM STDIN (PostgreSQL protocol)
    MULTIROW = "multirow"        # INSERT ... VALUES (...), (...), ... in chunks
    EXECUTEMANY = "executemany"  # the driver's executemany (its own batching, if any)


@dataclass(frozen=True)
class Capabilities:
    upsert: UpsertStyle
    skip_locked: bool
    named_lock: LockStyle
    bulk_load: BulkLoad
    returning: bool
    sequences: bool
    transactional_ddl: bool
    max_bind_params: int
    isolation_levels: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else (
                str(value) if isinstance(value, StrEnum) else value
            )
        return out

    def with_overrides(self, spec: str) -> Capabilities:
        """Apply ``"skip_locked=off,bulk_load=multirow"``; unknown keys/values are errors."""
        changes: dict[str, object] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            key, sep, raw = item.partition("=")
            key, raw = key.strip(), raw.strip().lower()
            if not sep or key not in _OVERRIDABLE:
                raise ConfigError(
                    f"数据库能力覆盖项 {item!r} 无效；可用: {', '.join(sorted(_OVERRIDABLE))}"
                )
            changes[key] = _parse_value(key, raw)
        return dataclasses.replace(self, **changes)


_OVERRIDABLE: dict[str, type] = {
    "upsert": UpsertStyle,
    "skip_locked": bool,
    "named_lock": LockStyle,
    "bulk_load": BulkLoad,
    "returning": bool,
    "sequences": bool,
}


def _parse_value(key: str, raw: str) -> object:
    kind = _OVERRIDABLE[key]
    if kind is bool:
        if raw in ("on", "true", "1", "yes"):
            return True
        if raw in ("off", "false", "0", "no"):
            return False
        raise ConfigError(f"数据库能力 {key} 的值 {raw!r} 无效: 应为 on 或 off")
    try:
        return kind(raw)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)  # type: ignore[attr-defined]
        raise ConfigError(f"数据库能力 {key} 的值 {raw!r} 无效；可用: {allowed}") from None
