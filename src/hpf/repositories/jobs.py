"""Job run history."""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from hpf.domain.jobs import RunRecord
from hpf.repositories.models import JobRun
from hpf_adapters.db import Adapter


class JobRunRepository:
    def __init__(self, session: Session, adapter: Adapter) -> None:
        self.session = session
        self.adapter = adapter

    def db_now(self) -> datetime:
        return self.adapter.db_now(self.session.connection())

    def attempts(self, job_name: str, run_key: str) -> list[RunRecord]:
        rows = self.session.execute(
            select(JobRun.id, JobRun.attempt, JobRun.status, JobRun.started_at)
            .where(JobRun.job_name == job_name, JobRun.run_key == run_key)
            .order_by(JobRun.attempt))
        return [RunRecord(*r) for r in rows]

    def start(self, *, job_name: str, run_key: str, attempt: int, business_date: date,
              trigger: str, host: str, pid: int, now: datetime) -> int:
        run = JobRun(job_name=job_name, run_key=run_key, attempt=attempt,
                     business_date=business_date, trigger_kind=trigger, status="running",
                     started_at=now, host=host[:128], pid=pid)
        self.session.add(run)
        self.session.flush()  # the unique key decides here who runs
        return run.id

    def abandon(self, ids: tuple[int, ...], now: datetime) -> None:
        if ids:
            self.session.execute(update(JobRun).where(JobRun.id.in_(ids))
                                 .values(status="abandoned", finished_at=now,
                                         error="进程未正常结束，超时后标记为放弃"))

    def finish(self, run_id: int, *, status: str, now: datetime, counts: dict[str, int],
               message: str = "", error: str | None = None) -> None:
        self.session.execute(update(JobRun).where(JobRun.id == run_id).values(
            status=status, finished_at=now, counts=json.dumps(counts, ensure_ascii=False),
            message=message[:500] or None, error=error[:2000] if error else None))

    def get(self, run_id: int) -> JobRun | None:
        return self.session.get(JobRun, run_id)

    def recent(self, job_name: str | None = None, limit: int = 50) -> list[JobRun]:
        stmt = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
        if job_name:
            stmt = stmt.where(JobRun.job_name == job_name)
        return list(self.session.scalars(stmt))

    def last_success(self, job_name: str) -> JobRun | None:
        return self.session.scalar(
            select(JobRun).where(JobRun.job_name == job_name, JobRun.status == "succeeded")
            .order_by(JobRun.started_at.desc()).limit(1))

    def purge_finished_before(self, cutoff: datetime) -> int:
        result = self.session.execute(delete(JobRun).where(
            JobRun.started_at < cutoff, JobRun.status != "running"))
        return result.rowcount or 0
