"""Run history of batch jobs; the unique key makes each run happen once."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hpf.repositories.models.base import Base


class JobRun(Base):
    __tablename__ = "job_run"
    __table_args__ = (
        # Two schedulers (or an operator and a scheduler) racing for the same run both try
        # to insert attempt N; the database lets exactly one of them win.
        sa.UniqueConstraint("job_name", "run_key", "attempt"),
        sa.Index("ix_job_run_started", "job_name", "started_at"),
        sa.CheckConstraint("status IN ('running', 'succeeded', 'failed', 'abandoned')",
                           name="status"),
        {"comment": "批处理作业运行记录"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(sa.String(64))
    run_key: Mapped[str] = mapped_column(sa.String(40))
    attempt: Mapped[int]
    business_date: Mapped[date]
    trigger_kind: Mapped[str] = mapped_column(sa.String(16))  # manual | scheduled
    status: Mapped[str] = mapped_column(sa.String(16))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    host: Mapped[str] = mapped_column(sa.String(128))
    pid: Mapped[int]
    counts: Mapped[str | None] = mapped_column(sa.Text)  # JSON object of named counts
    message: Mapped[str | None] = mapped_column(sa.String(500))
    error: Mapped[str | None] = mapped_column(sa.String(2000))
