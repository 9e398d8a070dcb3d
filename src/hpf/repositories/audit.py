"""SQL of the audit trail: append under the chain-head lock, read in order."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hpf.domain.audit import AuditFields, link
from hpf.repositories.models.audit import AuditChain, AuditCheckpoint, AuditEvent


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

    def search(self, *, actor: str | None = None, action: str | None = None,
               limit: int = 100) -> list[AuditEvent]:
        query = sa.select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
        if actor:
            query = query.where(AuditEvent.actor == actor)
        if action:
            query = query.where(AuditEvent.action == action)
        return list(self.session.scalars(query))


def head(conn) -> sa.RowMapping | None:
    t = AuditChain.__table__
    return conn.execute(sa.select(t).where(t.c.id == 1)).mappings().first()


def events_in_order(conn, batch: int = 2000) -> Iterator[sa.RowMapping]:
    t = AuditEvent.__table__
    last = 0
    while True:
        query = sa.select(t).where(t.c.seq > last).order_by(t.c.seq).limit(batch)
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
