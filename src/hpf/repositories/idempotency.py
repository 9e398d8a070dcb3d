"""Idempotency keys: claim by INSERT (the primary key decides a race), then keep the response."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from hpf.repositories.models import IdempotencyRecord


class IdempotencyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, principal: str, key: str, endpoint: str, request_hash: str, now: datetime) -> None:
        """Insert the in-progress row; an IntegrityError at flush means the key is taken."""
        self.session.add(IdempotencyRecord(principal=principal, idem_key=key, endpoint=endpoint[:200],
                                           request_hash=request_hash, created_at=now))
        self.session.flush()

    def get(self, principal: str, key: str) -> IdempotencyRecord | None:
        return self.session.get(IdempotencyRecord, (principal, key))

    def save_response(self, principal: str, key: str, status: int, body: str) -> None:
        self.session.execute(update(IdempotencyRecord)
                             .where(IdempotencyRecord.principal == principal,
                                    IdempotencyRecord.idem_key == key)
                             .values(status_code=status, response_body=body))

    def release(self, principal: str, key: str) -> None:
        self.session.execute(delete(IdempotencyRecord)
                             .where(IdempotencyRecord.principal == principal,
                                    IdempotencyRecord.idem_key == key))

    def drop_expired(self, principal: str, key: str, cutoff: datetime) -> None:
        self.session.execute(delete(IdempotencyRecord)
                             .where(IdempotencyRecord.principal == principal,
                                    IdempotencyRecord.idem_key == key,
                                    IdempotencyRecord.created_at < cutoff))

    def purge_created_before(self, cutoff: datetime) -> int:
        result = self.session.execute(delete(IdempotencyRecord)
                                      .where(IdempotencyRecord.created_at < cutoff))
        return result.rowcount or 0
