"""Audit jobs: sign the chain head periodically, so a rewrite of the chain is caught, and
move records past the retention period to signed archive files every night."""

from __future__ import annotations

from pathlib import Path

from hpf.config import load_settings
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


@REGISTRY.job("audit.archive", "审计记录归档清理", schedule="40 2 * * *")
def archive(ctx: JobContext) -> JobOutcome:
    """Writes audit records older than [audit] retention_days (at least 180) to SM2-signed
    files in [audit] archive_dir, then purges them; a re-run finds nothing older to move."""
    settings = (ctx.settings or load_settings()).audit
    done = audit_service.archive(ctx.database, directory=Path(settings.archive_dir),
                                 who=audit_service.Who.system("audit.archive"),
                                 retention_days=settings.retention_days)
    if done is None:
        return JobOutcome({"archived": 0, "files": 0}, f"没有超过 {settings.retention_days} 天的审计记录")
    return JobOutcome({"archived": done["records"], "files": len(done["files"]), "to_seq": done["to_seq"]},
                      f"已归档并清除第 {done['from_seq']} 至 {done['to_seq']} 条审计记录")
