"""The first response to an API request sent with an ``Idempotency-Key`` (接口幂等键)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hpf.repositories.models.base import Base


class IdempotencyRecord(Base):
    """One claimed key per principal. ``status_code`` is NULL while the first request runs;
    then it holds the status and JSON body that a retry with the same key gets back."""

    __tablename__ = "idempotency_record"
    __table_args__ = (
        sa.Index("ix_idempotency_record_created_at", "created_at"),
        {"comment": "接口幂等键（重复提交返回首次结果）"},
    )

    principal: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # user:<id> | token:<id>
    idem_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    endpoint: Mapped[str] = mapped_column(sa.String(200))  # "POST /api/v1/units", for operators
    request_hash: Mapped[str] = mapped_column(sa.String(64))  # SM3 of method, path, query, body
    status_code: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime]
