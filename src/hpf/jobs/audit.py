"""Audit jobs: sign the chain head periodically, so a rewrite of the chain is caught."""

from __future__ import annotations

from hpf.jobs.registry import REGISTRY, JobContext, JobOutcome
from hpf.services import audit as audit_service


@REGISTRY.job("audit.checkpoint", "审计链检查点签名", schedule="0 * * * *", per_fire=True)
def checkpoint(ctx: JobContext) -> JobOutcome:
    """Signs the audit chain's head with the SM2 audit key (nothing to do when no record
    was added since the last checkpoint)."""
    done = audit_service.checkpoint(ctx.database)
    if done is None:
        return JobOutcome({"signed": 0}, "没有新的审计记录")
    return JobOutcome({"signed": 1, "seq": done["seq"]}, f"已签发第 {done['seq']} 条处的检查点")
