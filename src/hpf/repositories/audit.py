"""SQL of the audit trail: append under the chain-head lock, read in order, search, and
the archive registry with the purge of archived ranges."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hpf.domain.audit import AuditFields, AuditFilter, link
from hpf.repositories.models.audit import AuditArchive, AuditChain, AuditCheckpoint, AuditEvent

# What search and export show: everything but the chain links.
LISTED = ("seq", "occurred_at", "actor", "role", "org_code", "ip", "action", "target", "result", "summary",
          "request_id")


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def append(self, fields: AuditFields, occurred_at: datetime, sm3: Callable[[bytes], bytes]) -> AuditEvent:
        """Add one record in the caller's transaction. The head row is locked until commit,
        so concurrent appends queue and every record links to the one before it."""
        head = self.session.execute(
            sa.select(AuditChain).where(AuditChain.id == 1).with_for_update()
            .execution_options(populate_existing=True)).scalar_one()
        seq = head.last_seq + 1
        digest = link(sm3, head.last_hash, seq, occurred_at, fields)
        event = AuditEvent(seq=seq, occurred_at=occurred_at, prev_hash=head.last_hash, hash=digest,
                           **vars(fields))
        head.last_seq, head.last_hash = seq, digest
        self.session.add(event)
        self.session.flush()
        return event

    def search(self, where: AuditFilter, offset: int, limit: int) -> tuple[list[sa.RowMapping], int]:
        """One page, newest first, and the number of matching records."""
        t = AuditEvent.__table__
        rows = self.session.execute(sa.select(*(t.c[n] for n in LISTED)).where(*_clauses(where))
                                    .order_by(t.c.seq.desc()).offset(offset).limit(limit)).mappings().all()
        return list(rows), self.count(where)

    def count(self, where: AuditFilter) -> int:
        t = AuditEvent.__table__
        query = sa.select(sa.func.count()).select_from(t).where(*_clauses(where))
        return self.session.execute(query).scalar_one()

    def newest_first(self, where: AuditFilter, limit: int, batch: int = 2000) -> Iterator[sa.RowMapping]:
        """Matching records, newest first, at most ``limit``, read in keyset batches."""
        t = AuditEvent.__table__
        clauses, below, left = _clauses(where), None, limit
        while left > 0:
            query = sa.select(*(t.c[n] for n in LISTED)).where(*clauses)
            if below is not None:
                query = query.where(t.c.seq < below)
            query = query.order_by(t.c.seq.desc()).limit(min(batch, left))
            rows = self.session.execute(query).mappings().all()
            if not rows:
                return
            yield from rows
            below, left = rows[-1]["seq"], left - len(rows)


def _clauses(where: AuditFilter) -> list[sa.ColumnElement[bool]]:
    t = AuditEvent.__table__
    clauses = []
    if where.actor:
        clauses.append(t.c.actor == where.actor)
    if where.action:
        clauses.append(t.c.action.startswith(where.action, autoescape=True))
    if where.result:
        clauses.append(t.c.result == where.result)
    if where.target:
        clauses.append(t.c.target.contains(where.target, autoescape=True))
    if where.org_code:
        clauses.append(t.c.org_code == where.org_code)
    if where.since is not None:
        clauses.append(t.c.occurred_at >= where.since)
    if where.until is not None:
        clauses.append(t.c.occurred_at < where.until)
    return clauses


def head(conn) -> sa.RowMapping | None:
    t = AuditChain.__table__
    return conn.execute(sa.select(t).where(t.c.id == 1)).mappings().first()


def events_in_order(conn, batch: int = 2000, *, after: int = 0,
                    upto: int | None = None) -> Iterator[sa.RowMapping]:
    """Records with ``after < seq <= upto`` in ``seq`` order, read in batches."""
    t = AuditEvent.__table__
    last = after
    while True:
        query = sa.select(t).where(t.c.seq > last).order_by(t.c.seq).limit(batch)
        if upto is not None:
            query = query.where(t.c.seq <= upto)
        rows = conn.execute(query).mappings().all()
        if not rows:
            return
        yield from rows
        last = rows[-1]["seq"]


def checkpoints(conn) -> list[sa.RowMapping]:
    t = AuditCheckpoint.__table__
    return list(conn.execute(sa.select(t).order_by(t.c.seq, t.c.id)).mappings())


def add_checkpoint(conn, **values) -> None:
    conn.execute(AuditCheckpoint.__table__.insert().values(**values))


# ---------------------------------------------------------------- archives

def archives(conn) -> list[sa.RowMapping]:
    t = AuditArchive.__table__
    return list(conn.execute(sa.select(t).order_by(t.c.from_seq, t.c.id)).mappings())


def last_archive(conn) -> sa.RowMapping | None:
    t = AuditArchive.__table__
    return conn.execute(sa.select(t).order_by(t.c.to_seq.desc(), t.c.id.desc()).limit(1)).mappings().first()


def archive_named(conn, file_name: str) -> sa.RowMapping | None:
    t = AuditArchive.__table__
    return conn.execute(sa.select(t).where(t.c.file_name == file_name)).mappings().first()


def archive_ending_at(conn, to_seq: int) -> sa.RowMapping | None:
    t = AuditArchive.__table__
    return conn.execute(sa.select(t).where(t.c.to_seq == to_seq).limit(1)).mappings().first()


def archivable_end(conn, after: int, cutoff: datetime, max_records: int) -> int | None:
    """The last seq of the unbroken run of records after ``after`` that all happened before
    ``cutoff`` (a record's time is taken before the chain lock, so times may interleave by
    a moment; the run stops at the first younger record), capped at ``max_records``."""
    t = AuditEvent.__table__
    first_young = conn.execute(sa.select(sa.func.min(t.c.seq))
                               .where(t.c.seq > after, t.c.occurred_at >= cutoff)).scalar()
    end = first_young - 1 if first_young is not None else \
        conn.execute(sa.select(sa.func.max(t.c.seq)).where(t.c.seq > after)).scalar()
    if end is None or end <= after:
        return None
    return min(end, after + max_records)


def add_archive(conn, **values) -> None:
    conn.execute(AuditArchive.__table__.insert().values(**values))


def delete_events(conn, first: int, last: int, batch: int = 5000) -> int:
    """Delete records ``first``..``last`` in bounded seq ranges; how many were deleted."""
    t = AuditEvent.__table__
    deleted = 0
    for low in range(first, last + 1, batch):
        high = min(low + batch - 1, last)
        deleted += conn.execute(t.delete().where(t.c.seq >= low, t.c.seq <= high)).rowcount
    return deleted
