"""Running batch jobs with history and once-only semantics (作业调度与运行记录)."""

from __future__ import annotations

import json
import logging
import os
import socket
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError

from hpf.config import Settings
from hpf.domain.jobs import decide_start
from hpf.jobs.registry import JobContext, JobRegistry
from hpf.jobs.schedule import schedules
from hpf.repositories.uow import UnitOfWork
from hpf_adapters.db import Database

log = logging.getLogger("hpf.jobs")


@dataclass(frozen=True)
class JobRunResult:
    job_name: str
    run_key: str
    status: str  # succeeded | failed | skipped
    run_id: int | None
    counts: dict[str, int]
    message: str


@dataclass(frozen=True)
class JobView:
    name: str
    title: str
    schedule: str | None  # effective cron, None when not scheduled
    per_fire: bool
    description: str


@dataclass(frozen=True)
class JobRunView:
    id: int
    job_name: str
    run_key: str
    attempt: int
    business_date: date
    trigger: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    host: str
    pid: int
    counts: dict[str, int]
    message: str | None
    error: str | None


def catalogue(settings: Settings, registry: JobRegistry) -> list[JobView]:
    """Every registered job with the schedule that is in effect for it."""
    effective = schedules(settings, registry)
    return [JobView(j.name, j.title, effective.get(j.name), j.per_fire, j.description)
            for j in registry.all()]


def run_job(database: Database, registry: JobRegistry, name: str, business_date: date, *,
            trigger: str = "manual", run_key: str | None = None,
            rerun: bool = False, settings: Settings | None = None) -> JobRunResult:
    """Run job ``name`` for ``business_date`` unless that run already succeeded or is running."""
    spec = registry.get(name)
    key = run_key or business_date.isoformat()
    with UnitOfWork(database) as uow:
        now = uow.job_runs.db_now()
        decision = decide_start(uow.job_runs.attempts(name, key), now, spec.stale_after,
                                rerun=rerun)
        if decision.action != "start":
            reason = "已成功运行，未重复执行" if decision.action == "done" else "正在其他进程中运行"
            return JobRunResult(name, key, "skipped", decision.existing_id, {}, reason)
        uow.job_runs.abandon(decision.abandon, now)
        try:
            run_id = uow.job_runs.start(
                job_name=name, run_key=key, attempt=decision.attempt,
                business_date=business_date, trigger=trigger, host=socket.gethostname(),
                pid=os.getpid(), now=now)
            uow.commit()
        except IntegrityError:  # another process claimed this attempt a moment earlier
            return JobRunResult(name, key, "skipped", None, {}, "已被其他进程领取")
    context = JobContext(database, business_date, run_id, trigger, log, settings)
    log.info("job started", extra={"job": name, "run_key": key, "run_id": run_id})
    try:
        outcome = spec.func(context)
    except Exception as exc:
        log.exception("job failed", extra={"job": name, "run_key": key, "run_id": run_id})
        error = f"{type(exc).__name__}: {exc}"
        _finish(database, run_id, "failed", {}, "", error)
        return JobRunResult(name, key, "failed", run_id, {}, error)
    _finish(database, run_id, "succeeded", outcome.counts, outcome.message, None)
    log.info("job succeeded", extra={"job": name, "run_id": run_id, "counts": outcome.counts})
    return JobRunResult(name, key, "succeeded", run_id, outcome.counts, outcome.message)


def _finish(database: Database, run_id: int, status: str, counts: dict[str, int],
            message: str, error: str | None) -> None:
    with UnitOfWork(database) as uow:
        uow.job_runs.finish(run_id, status=status, now=uow.job_runs.db_now(), counts=counts,
                            message=message, error=error)
        uow.commit()


def history(database: Database, job_name: str | None = None, limit: int = 50) -> list[JobRunView]:
    """The most recent runs, newest first."""
    with UnitOfWork(database) as uow:
        return [_view(r) for r in uow.job_runs.recent(job_name, limit)]


def last_success(database: Database, job_name: str) -> JobRunView | None:
    with UnitOfWork(database) as uow:
        row = uow.job_runs.last_success(job_name)
        return _view(row) if row else None


def purge_history(database: Database, older_than: timedelta) -> int:
    """Delete finished runs that started more than ``older_than`` ago."""
    with UnitOfWork(database) as uow:
        removed = uow.job_runs.purge_finished_before(uow.job_runs.db_now() - older_than)
        uow.commit()
    return removed


def _view(r) -> JobRunView:
    return JobRunView(r.id, r.job_name, r.run_key, r.attempt, r.business_date, r.trigger_kind,
                      r.status, r.started_at, r.finished_at, r.host, r.pid,
                      json.loads(r.counts) if r.counts else {}, r.message, r.error)
