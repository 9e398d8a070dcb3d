"""Key lifecycle and data protection jobs: create keys, seal rows, verify, rotate.

These run outside request transactions, in batches of their own, so they can run while
the system serves (``hpf crypto rotate-keys`` on a live centre).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from hpf.crypto import fields, integrity, keys
from hpf.crypto.errors import CryptoError, KeyManagementError
from hpf.repositories.models import AuditArchive, AuditCheckpoint, Base, DepositCertificate
from hpf.services import audit
from hpf_adapters.db import Database

log = logging.getLogger("hpf.crypto")
Progress = Callable[[str], None]


def keyring(database: Database) -> keys.Keyring:
    return keys.for_engine(database.engine)


def check_keys(database: Database) -> keys.Keyring:
    """Before serving: the master key opens every data key and each purpose has an active
    one. Raises KeyManagementError (a clear message) otherwise."""
    ring = keyring(database)
    ring.reload()
    missing = sorted(set(keys.PURPOSES) - {k.purpose for k in ring.all_keys() if k.status == "active"})
    if missing:
        raise KeyManagementError(f"缺少数据密钥（{', '.join(missing)}）：请先执行 hpf db upgrade")
    return ring


def upgrade_database(database: Database, revision: str = "head", *, batch: int = 500):
    """Migrate the schema and, once at head, make keys and seal migrated rows (the one
    install/upgrade step operators, the demo and the tests all use)."""
    from hpf.repositories import schema

    before = schema.state(database).current
    result = schema.upgrade(database, revision)
    if result.current != result.head:
        return result, None
    # Seal rows only when this call actually migrated: at any other time a row without a
    # MAC is a finding for verify-integrity, not something to bless.
    prepared = prepare(database, batch=batch, seal=before != result.current)
    # Built-in roles and default maker-checker rules are sealed rows: written here, not in SQL.
    from hpf.repositories.uow import UnitOfWork
    from hpf.services import access

    prepared.update(access.sync_builtin(UnitOfWork(database), datetime.now(UTC)))
    return result, prepared


def prepare(database: Database, *, batch: int = 500, seal: bool = True) -> dict[str, int]:
    """After a migration: make sure every data key exists and seal the rows it wrote.

    Rows written by migrations (reference data) cannot be sealed in SQL, since the keys
    live outside the database; this is the one place that seals rows without a MAC, and
    ``upgrade_database`` calls it with ``seal`` only when migrations ran in that call."""
    created = keyring(database).ensure()
    sealed = 0
    if seal:
        for model in integrity.sealed_models(Base):
            sealed += _seal_unsealed(database, model, batch)
    return {"keys_created": len(created), "rows_sealed": sealed}


def _pk(table) -> list[sa.Column]:
    return list(table.primary_key.columns)


def _seal_unsealed(database: Database, model, batch: int) -> int:
    table, done = model.__table__, 0
    pk = _pk(table)
    ring = keyring(database)
    key = ring.active("integrity")
    cols = [*pk, *integrity.readable_columns(table, [n for n in model.__integrity__
                                                     if n not in {c.name for c in pk}])]
    unreadable: set = set()
    while True:
        with database.engine.begin() as conn:
            rows = [r for r in conn.execute(sa.select(*cols).where(table.c.row_mac.is_(None))
                                            .order_by(*pk).limit(batch + len(unreadable))).mappings()
                    if tuple(r[c.name] for c in pk) not in unreadable]
            for raw_row in rows:
                row, reason = integrity.open_row(ring, table, raw_row)
                if reason:  # left unsealed: verify-integrity reports it
                    unreadable.add(tuple(row[c.name] for c in pk))
                    continue
                mac = integrity.compute(key, model.__tablename__, model.__integrity__, row)
                conn.execute(table.update().where(*(c == row[c.name] for c in pk),
                                                  table.c.row_mac.is_(None)).values(row_mac=mac))
                done += 1
        if len(rows) < batch:
            return done


# ---------------------------------------------------------------- verification

@dataclass
class IntegrityReport:
    tables: list[integrity.TableReport] = field(default_factory=list)
    findings: list[integrity.Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def _sealed_models(tables: list[str] | None = None) -> list[type]:
    """The sealed models named by ``tables`` (all when None); an unknown name is an error."""
    models = integrity.sealed_models(Base)
    known = {m.__tablename__ for m in models}
    unknown = set(tables or ()) - known
    if unknown:
        raise CryptoError(f"没有完整性保护的表：{', '.join(sorted(unknown))}"
                          f"（可选：{', '.join(sorted(known))}）", code="crypto_unknown_table")
    return [m for m in models if not tables or m.__tablename__ in tables]


def verify_integrity(database: Database, tables: list[str] | None = None, *,
                     batch: int = 2000, limit: int = 10_000) -> IntegrityReport:
    """Recompute every sealed row's MAC; list the rows that do not verify (first ``limit``)."""
    report = IntegrityReport()
    for model in _sealed_models(tables):
        for item in integrity.scan(database.engine, model, batch=batch):
            if isinstance(item, integrity.TableReport):
                report.tables.append(item)
            elif len(report.findings) < limit:
                report.findings.append(item)
    return report


def reseal_row(database: Database, table: str, pk: int | str, *, reason: str,
               who: audit.Who | None = None) -> str:
    """Seal one row's current values after a person has reviewed a change made outside the
    application (an approved emergency fix). ``pk`` is the primary key; for a table whose key
    has several columns, their values in order, comma-separated (``user_role``: "7,3").
    Logged as a warning with the reason and recorded in the audit trail."""
    if not reason.strip():
        raise CryptoError("重新签发完整性校验值必须说明原因（如核准工单号）", code="crypto_reason_required")
    [model] = _sealed_models([table])
    t = model.__table__
    key_columns = _pk(t)
    parts = str(pk).split(",")
    try:
        if len(parts) != len(key_columns):
            raise ValueError
        where = [c == c.type.python_type(v.strip()) for c, v in zip(key_columns, parts, strict=True)]
    except (ValueError, NotImplementedError):
        names = ",".join(c.name for c in key_columns)
        raise CryptoError(f"{table} 的主键为 {names}，请按此顺序给出（逗号分隔）", code="not_found") from None
    key = keyring(database).active("integrity")
    with database.engine.begin() as conn:
        row = conn.execute(sa.select(t).where(*where)).mappings().first()
        if row is None:
            raise CryptoError(f"{table} 中不存在主键为 {pk} 的记录", code="not_found")
        mac = integrity.compute(key, model.__tablename__, model.__integrity__, row)
        conn.execute(t.update().where(*where).values(row_mac=mac))
    log.warning("row resealed by operator: %s key=%s reason=%s", table, pk, reason.strip())
    audit.record_now(database, who or audit.Who.system("crypto"), "crypto.reseal", target=f"{table}:{pk}",
                     summary=f"reason={reason.strip()}")
    return mac


# ---------------------------------------------------------------- rotation

@dataclass
class RotationReport:
    new_keys: list[str] = field(default_factory=list)
    rewritten: dict[str, int] = field(default_factory=dict)
    refused: list[integrity.Finding] = field(default_factory=list)  # MAC did not verify: not re-sealed
    remaining: dict[str, int] = field(default_factory=dict)  # rows still under an older key


ROTATABLE = tuple(keys.PURPOSES)


def rotate_keys(database: Database, purposes: list[str], *, new_keys: bool = True,
                batch: int = 500, progress: Progress | None = None,
                who: audit.Who | None = None) -> RotationReport:
    """Make new data keys active (unless ``new_keys`` is False: resume an interrupted run)
    and re-encrypt / re-index / re-seal every row still under an older key, one batch per
    transaction. Each row is rewritten only if it still holds the value read (a
    concurrent business update wins and is picked up on the next pass)."""
    bad = set(purposes) - set(ROTATABLE)
    if bad:
        raise CryptoError(f"未知的密钥用途：{', '.join(sorted(bad))}（可选：{', '.join(ROTATABLE)}）",
                          code="crypto_unknown_purpose")
    ring = keyring(database)
    report = RotationReport()
    if new_keys:
        report.new_keys = ring.rotate(purposes)
    say = progress or (lambda _msg: None)
    for purpose in purposes:
        active = ring.active(purpose)
        for label, job in _rotation_jobs(database, purpose, active, report, batch):
            count = 0
            for n in job():
                count += n
                say(f"{label}: 已处理 {count} 行")
            report.rewritten[label] = count
    report.remaining = pending_rows(database)
    audit.record_now(database, who or audit.Who.system("crypto"), "crypto.rotate_keys",
                     target=",".join(purposes), result="failure" if report.refused else "success",
                     summary=f"new={','.join(report.new_keys) or '-'} refused={len(report.refused)}")
    return report


def _rotation_jobs(database, purpose, active, report,
                   batch: int) -> Iterator[tuple[str, Callable[[], Iterator[int]]]]:
    if purpose == "pii":
        for model, attr, ctype in fields.encrypted_columns(Base):
            column = model.__table__.c[attr]
            yield (f"{model.__tablename__}.{attr}",
                   lambda c=column, t=ctype: _reencrypt(database, c, t, active, report, batch))
    elif purpose == "blind_index":
        for model, index_col, source, context in fields.blind_index_specs(Base):
            table = model.__table__
            yield (f"{table.name}.{index_col}",
                   lambda t=table, i=index_col, s=source, c=context:
                   _reindex(database, t, i, s, c, active, report, batch))
    elif purpose == "integrity":
        for model in integrity.sealed_models(Base):
            yield (f"{model.__tablename__}.row_mac",
                   lambda m=model: _reseal(database, m, active, report, batch))


def _raw(column) -> sa.ColumnElement:
    """The stored text of an encrypted column, bypassing the type's decryption."""
    return sa.type_coerce(column, sa.String())


def _stale(column, active) -> sa.ColumnElement:
    raw = _raw(column)
    return sa.and_(raw.is_not(None), raw.not_like(f"{active.key_id}{fields.SEPARATOR}%"))


def _batches(database, table, column, active, batch=500, extra=()):
    pk = _pk(table)
    skipped: set = set()
    last, repeats = None, 0
    while True:
        with database.engine.connect() as conn:
            query = sa.select(*pk, _raw(column).label("raw"), *extra).where(_stale(column, active))
            rows = [r for r in conn.execute(query.order_by(*pk).limit(batch + len(skipped))).mappings()
                    if tuple(r[c.name] for c in pk) not in skipped]
        if not rows:
            return
        # The same rows again: another node keeps rewriting them under an older key (it has
        # not refreshed its keyring yet). Stop; ``--resume`` later picks them up.
        seen = [(*tuple(r[c.name] for c in pk), r["raw"]) for r in rows]
        repeats = repeats + 1 if seen == last else 0
        if repeats >= 3:
            return
        last = seen
        yield rows, skipped


def _unreadable(report, table, pk, row, skipped, exc: CryptoError) -> None:
    key = tuple(row[c.name] for c in pk)
    skipped.add(key)
    report.refused.append(integrity.Finding(table.name, {c.name: row[c.name] for c in pk},
                                            f"无法解密，未改写（{exc.message}）"))


def _reencrypt(database, column, ctype, active, report, batch) -> Iterator[int]:
    ring = keyring(database)
    table, pk = column.table, _pk(column.table)
    for rows, skipped in _batches(database, table, column, active, batch):
        done = 0
        with database.engine.begin() as conn:
            for row in rows:
                try:
                    plain = fields.decrypt_text(ring, ctype.context, row["raw"])
                except CryptoError as exc:
                    _unreadable(report, table, pk, row, skipped, exc)
                    continue
                conn.execute(table.update()
                             .where(*(c == row[c.name] for c in pk), _raw(column) == row["raw"])
                             .values({column.name: sa.type_coerce(
                                 fields.encrypt_text(ring, ctype.context, plain), sa.String())}))
                done += 1
        yield done


def _reindex(database, table, index_col, source, context, active, report, batch) -> Iterator[int]:
    ring = keyring(database)
    pk, column = _pk(table), table.c[index_col]
    src = table.c[source]
    for rows, skipped in _batches(database, table, column, active, batch, extra=(_raw(src).label("src"),)):
        done = 0
        with database.engine.begin() as conn:
            for row in rows:
                try:
                    value = fields.decrypt_text(ring, src.type.context, row["src"]) if row["src"] else None
                except CryptoError as exc:
                    _unreadable(report, table, pk, row, skipped, exc)
                    continue
                conn.execute(table.update().where(*(c == row[c.name] for c in pk), column == row["raw"])
                             .values({index_col: None if value is None
                                      else fields.blind_index_with(active, context, value)}))
                done += 1
        yield done


def _reseal(database, model, active, report, batch) -> Iterator[int]:
    ring = keyring(database)
    table = model.__table__
    pk, fields_ = _pk(table), model.__integrity__
    cols = integrity.readable_columns(table, [n for n in fields_ if n not in {c.name for c in pk}])
    for rows, skipped in _batches(database, table, table.c.row_mac, active, batch, extra=cols):
        done = 0
        with database.engine.begin() as conn:
            for raw_row in rows:
                row, reason = integrity.open_row(ring, table, raw_row)
                reason = reason or integrity.check(ring, model.__tablename__, fields_, row, row["raw"])
                if reason:  # re-sealing a tampered row would launder it: leave it and report
                    skipped.add(tuple(row[c.name] for c in pk))
                    report.refused.append(integrity.Finding(model.__tablename__,
                                                            {c.name: row[c.name] for c in pk}, reason))
                    continue
                mac = integrity.compute(active, model.__tablename__, fields_, row)
                conn.execute(table.update().where(*(c == row[c.name] for c in pk),
                                                  table.c.row_mac == row["raw"]).values(row_mac=mac))
                done += 1
        yield done


def _protected_columns() -> list[tuple[sa.Column, str]]:
    """Every stored value that names a data key, with the key's purpose."""
    targets = [(t.__table__.c[a], "pii") for t, a, _ in fields.encrypted_columns(Base)]
    targets += [(m.__table__.c[i], "blind_index") for m, i, _, _ in fields.blind_index_specs(Base)]
    targets += [(m.__table__.c.row_mac, "integrity") for m in integrity.sealed_models(Base)]
    return targets


def pending_rows(database: Database) -> dict[str, int]:
    """Rows per key id that are not under their purpose's active key (rotation backlog)."""
    ring = keyring(database)
    counts: dict[str, int] = {}
    with database.engine.connect() as conn:
        for column, purpose in _protected_columns():
            n = conn.execute(sa.select(sa.func.count()).select_from(column.table)
                             .where(_stale(column, ring.active(purpose)))).scalar_one()
            if n:
                counts[f"{column.table.name}.{column.name}"] = n
    return counts


def references(database: Database, key_id: str) -> int:
    """How many stored values still name ``key_id``."""
    total = 0
    with database.engine.connect() as conn:
        for column, _purpose in _protected_columns():
            total += conn.execute(sa.select(sa.func.count()).select_from(column.table)
                                  .where(_raw(column).like(f"{key_id}{fields.SEPARATOR}%"))).scalar_one()
        # Audit checkpoints, archive registrations and deposit certificates name their signing
        # key: it must outlive them to verify them.
        for model in (AuditCheckpoint, AuditArchive, DepositCertificate):
            total += conn.execute(sa.select(sa.func.count()).select_from(model.__table__)
                                  .where(model.key_id == key_id)).scalar_one()
    return total


def destroy_retired_key(database: Database, key_id: str, who: audit.Who | None = None) -> None:
    """Delete a retired data key once nothing refers to it (after a finished rotation)."""
    ring = keyring(database)
    key = ring.get(key_id)
    if key.status == "active":
        raise KeyManagementError(f"数据密钥 {key_id} 仍在使用中（active），不能销毁")
    n = references(database, key_id)
    if n:
        raise KeyManagementError(f"仍有 {n} 个数据项由数据密钥 {key_id} 保护："
                                 "请先执行 hpf crypto rotate-keys --resume")
    ring.delete_retired(key_id)
    audit.record_now(database, who or audit.Who.system("crypto"), "crypto.destroy_key", target=key_id)
