"""System jobs: scheduler heartbeat and run-history retention."""

from __future__ import annotations

from datetime import timedelta

from hpf.jobs.registry import REGISTRY, JobContext, JobOutcome
from hpf.repositories.uow import UnitOfWork
from hpf.services import idempotency
from hpf.services import jobs as job_service
from hpf.services import params as param_service
from hpf.services.clock import Clock


@REGISTRY.job("system.heartbeat", "调度心跳", schedule="*/5 * * * *", per_fire=True)
def heartbeat(ctx: JobContext) -> JobOutcome:
    """Proves the scheduler's leader is alive: each run is one row in the job history.

    Monitoring alerts when the newest heartbeat is older than two intervals.
    """
    return JobOutcome({"alive": 1}, "调度器运行正常")


@REGISTRY.job("system.purge_job_history", "清理作业运行记录", schedule="30 2 * * *")
def purge_job_history(ctx: JobContext) -> JobOutcome:
    """Deletes finished runs older than the parameter job.history_retention_days."""
    days = param_service.value_on_date(UnitOfWork(ctx.database), "job.history_retention_days",
                                       ctx.business_date)
    removed = job_service.purge_history(ctx.database, timedelta(days=int(days)))
    return JobOutcome({"deleted": removed}, f"删除 {days} 天前的运行记录 {removed} 条")


@REGISTRY.job("system.purge_idempotency_keys", "清理过期幂等键", schedule="50 2 * * *")
def purge_idempotency_keys(ctx: JobContext) -> JobOutcome:
    """Deletes Idempotency-Key records older than 24 hours (a retry after that runs anew)."""
    removed = idempotency.purge_expired(UnitOfWork(ctx.database), Clock().now())
    return JobOutcome({"deleted": removed}, f"删除过期幂等键 {removed} 条")
