"""Integrity of important records: an HMAC-SM3 over each row's business fields.

A model opts in by naming its protected fields and carrying a ``row_mac`` column::

    class Account(Base, Sealed):
        __integrity__ = ("account_no", "status", "balance")

The MAC is written with every change made through the application (ORM flushes, and
``seal_rows`` for set-based Core writes); ``hpf crypto verify-integrity`` recomputes it
for every row and lists the rows that were changed behind the application's back. An ORM
update first checks the row as loaded and refuses (IntegrityViolation) when it does not
verify, so a tampered row is never re-sealed by ordinary business.

The MAC covers the table name and the listed fields in a canonical text form, so a value
moved from one row or table to another does not verify; list a business key (account
number, voucher number + line) among the fields so that rows cannot be swapped either.
Python-side column defaults of protected fields are applied before the MAC is computed;
server-side defaults are not visible here, so protected fields must not rely on them.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column

from hpf.crypto import core, keys
from hpf.crypto.errors import IntegrityViolation, UnknownKeyId

log = logging.getLogger("hpf.crypto")
SEPARATOR = "$"
MAC_LENGTH = 24 + 1 + 64


class Sealed:
    """Mixin: a ``row_mac`` column kept equal to HMAC-SM3 over ``__integrity__`` fields."""

    __integrity__: ClassVar[tuple[str, ...]] = ()
    row_mac: Mapped[str | None] = mapped_column(sa.String(MAC_LENGTH), nullable=True)


def canonical(value: Any) -> str:
    """One text form per value whatever the driver returned (Decimal('1.50') == '1.5')."""
    if value is None:
        return "\u2205"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:  # UtcDateTime values are UTC; naive ones only from raw SQL
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def message(table: str, fields: Iterable[str], values: Mapping[str, Any]) -> bytes:
    parts = [table] + [f"{name}={canonical(values.get(name))}" for name in fields]
    return "\x1f".join(parts).encode("utf-8")


def compute(key: keys.DataKey, table: str, fields: Iterable[str], values: Mapping[str, Any]) -> str:
    return key.key_id + SEPARATOR + core.hmac_sm3(key.secret, message(table, fields, values)).hex()


def check(keyring: keys.Keyring, table: str, fields: Iterable[str], values: Mapping[str, Any],
          stored: str | None) -> str | None:
    """None when the MAC verifies, else the reason (Chinese, for the report)."""
    if not stored:
        return "缺少完整性校验值"
    key_id, sep, _ = stored.partition(SEPARATOR)
    if not sep:
        return "完整性校验值格式错误"
    try:
        key = keyring.get(key_id)
    except UnknownKeyId:
        return f"完整性密钥 {key_id} 不存在"
    if not hmac.compare_digest(compute(key, table, fields, values), stored):
        return "完整性校验值不匹配（数据在应用之外被修改）"
    return None


def seal_rows(bind, model, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For set-based Core writes: fill ``row_mac`` in each dict (which holds every field)."""
    keyring = keys.for_dialect(_dialect(bind))
    key = keyring.active("integrity")
    table, fields = model.__tablename__, model.__integrity__
    for row in rows:
        row["row_mac"] = compute(key, table, fields, row)
    return rows


def _dialect(bind):
    get_bind = getattr(bind, "get_bind", None)
    return (get_bind() if get_bind else bind).dialect


def _apply_defaults(mapper, target, fields) -> None:
    """Column defaults are filled in after before_insert; fill the protected ones now so the
    MAC covers the value actually stored (``active=True`` by default, say)."""
    for name in fields:
        default = getattr(mapper.columns.get(name), "default", None)
        plain = default is not None and (default.is_scalar or default.is_callable)  # not SQL defaults
        if getattr(target, name) is None and plain:
            setattr(target, name, default.arg(None) if default.is_callable else default.arg)


def _seal_new_instance(mapper, connection, target) -> None:
    fields = getattr(target, "__integrity__", ())
    if fields:
        _apply_defaults(mapper, target, fields)
        _seal_instance(mapper, connection, target)


def _seal_instance(mapper, connection, target) -> None:
    fields = getattr(target, "__integrity__", ())
    if not fields:
        return
    key = keys.for_dialect(connection.dialect).active("integrity")
    values = {name: getattr(target, name) for name in fields}
    target.row_mac = compute(key, target.__tablename__, fields, values)


def committed_values(target, fields, connection=None) -> tuple[dict[str, Any], str | None]:
    """The fields and MAC as stored, before this session changed them: from the attribute
    history, or (when a field was overwritten without its old value ever being loaded) from
    the row itself through ``connection``."""
    state = sa.inspect(target)
    out, missing = {}, False
    for name in (*fields, "row_mac"):
        history = state.attrs[name].load_history()
        if history.deleted:
            out[name] = history.deleted[0]
        elif history.unchanged:
            out[name] = history.unchanged[0]
        else:
            missing = True
    if missing and connection is not None and state.identity is not None:
        table = type(target).__table__
        pk = list(table.primary_key.columns)
        row = connection.execute(
            sa.select(*(table.c[n] for n in (*fields, "row_mac")))
            .where(*(c == v for c, v in zip(pk, state.identity, strict=True)))).mappings().first()
        out = dict(row) if row else {}
    return out, out.pop("row_mac", None)


def check_instance(keyring: keys.Keyring, target, connection=None) -> str | None:
    """None when the row as stored verifies, else the reason (see ``check``)."""
    fields = target.__integrity__
    values, mac = committed_values(target, fields, connection)
    return check(keyring, target.__tablename__, fields, values, mac)


def require_intact(keyring: keys.Keyring, target, connection=None) -> None:
    """Raise IntegrityViolation when the stored row was changed outside the application."""
    reason = check_instance(keyring, target, connection)
    if reason:
        where = f"{target.__tablename__} {sa.inspect(target).identity}"
        log.error("refused to update %s: %s", where, reason)  # the operator's lead to the row
        raise IntegrityViolation(internal=f"{where}: {reason}")


def _reseal_checked(mapper, connection, target) -> None:
    """Before an update: the row as loaded must still verify. Re-sealing a row changed in
    SQL would make the change look legitimate, so the update is refused instead."""
    fields = getattr(target, "__integrity__", ())
    if not fields:
        return
    require_intact(keys.for_dialect(connection.dialect), target, connection)
    _seal_instance(mapper, connection, target)


def install_listeners(base) -> None:
    """Seal every ``Sealed`` model on insert and update (called once for the declarative base)."""
    event.listen(base, "before_insert", _seal_new_instance, propagate=True)
    event.listen(base, "before_update", _reseal_checked, propagate=True)


def sealed_models(base) -> list[type]:
    return [m.class_ for m in base.registry.mappers if getattr(m.class_, "__integrity__", ())]


# ---------------------------------------------------------------- verification

@dataclass(frozen=True)
class Finding:
    table: str
    key: dict[str, Any]
    reason: str


@dataclass
class TableReport:
    table: str
    rows: int = 0
    bad: int = 0


def readable_columns(table, names) -> list[sa.ColumnElement]:
    """Select expressions for ``names`` that never raise while rows are fetched: encrypted
    columns come back as their stored text, to be opened by ``open_row``."""
    from hpf.crypto.fields import EncryptedString

    return [sa.type_coerce(table.c[n], sa.String()).label(n) if isinstance(table.c[n].type, EncryptedString)
            else table.c[n] for n in names]


def open_row(keyring: keys.Keyring, table, row) -> tuple[dict[str, Any], str | None]:
    """Decrypt the encrypted columns of a row read with ``readable_columns``. Returns the
    values and, when a column does not decrypt, the reason (the row is then a finding)."""
    from hpf.crypto.errors import CryptoError
    from hpf.crypto.fields import EncryptedString, decrypt_text

    values = dict(row)
    for name, value in row.items():
        column = table.c.get(name)
        if value is not None and column is not None and isinstance(column.type, EncryptedString):
            try:
                values[name] = decrypt_text(keyring, column.type.context, value)
            except CryptoError as exc:
                return values, f"加密字段 {name} 无法解密（{type(exc).__name__}）"
    return values, None


def scan(engine, model, *, batch: int = 2000, unsealed_ok: bool = False) -> Iterator[Finding | TableReport]:
    """Yield a Finding per row that does not verify, then the table's TableReport.

    Reads in primary-key order in batches, on its own connection, so it can run against a
    live system without holding long locks."""
    keyring = keys.for_engine(engine)
    keyring.refresh_if_stale()  # before our connection opens (SQLite: one transaction at a time)
    table = model.__table__
    pk = list(table.primary_key.columns)
    fields = model.__integrity__
    cols = [*pk, *readable_columns(table, [n for n in fields if n not in {c.name for c in pk}]),
            table.c.row_mac]
    report = TableReport(model.__tablename__)
    last = None
    with engine.connect().execution_options(hpf_read_only=True) as conn:
        while True:
            query = sa.select(*cols).order_by(*pk).limit(batch)
            if last is not None:
                query = query.where(sa.tuple_(*pk) > sa.tuple_(*last) if len(pk) > 1 else pk[0] > last[0])
            rows = conn.execute(query).mappings().all()
            if not rows:
                break
            for row in rows:
                report.rows += 1
                if unsealed_ok and row["row_mac"] is None:
                    continue
                values, reason = open_row(keyring, table, row)
                reason = reason or check(keyring, model.__tablename__, fields, values, row["row_mac"])
                if reason:
                    report.bad += 1
                    yield Finding(model.__tablename__, {c.name: row[c.name] for c in pk}, reason)
            last = [rows[-1][c.name] for c in pk]
    yield report
