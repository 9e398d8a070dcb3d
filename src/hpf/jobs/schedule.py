"""Cron expressions for jobs: the job's default, overridden by the ``[jobs]`` config section."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from hpf.config import Settings
from hpf.domain.errors import ConfigError
from hpf.jobs.registry import JobRegistry


def parse_cron(expr: str, tz: ZoneInfo) -> CronTrigger:
    """5 fields (min hour day month dow) or 6 with seconds first. Weekdays: use names."""
    fields = expr.split()
    try:
        if len(fields) == 5:
            return CronTrigger.from_crontab(expr, timezone=tz)
        if len(fields) == 6:
            second, minute, hour, day, month, dow = fields
            return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month,
                               day_of_week=dow, timezone=tz)
    except ValueError as exc:
        raise ConfigError(f"cron 表达式 {expr!r} 无效: {exc}") from None
    raise ConfigError(f"cron 表达式 {expr!r} 应有 5 个字段 (分 时 日 月 周) 或 6 个 (秒 分 时 日 月 周)")


def schedules(settings: Settings, registry: JobRegistry) -> dict[str, str]:
    """Effective cron per job: config ``[jobs]`` overrides the job's default; "off" disables."""
    unknown = set(settings.jobs) - set(registry.names())
    if unknown:
        raise ConfigError(f"配置 [jobs] 中有未知作业: {', '.join(sorted(unknown))}；"
                          f"可用作业: {', '.join(registry.names())}")
    out = {}
    for spec in registry.all():
        expr = settings.jobs.get(spec.name, spec.schedule or "off")
        if expr.lower() != "off":
            parse_cron(expr, ZoneInfo(settings.scheduler.timezone))  # fail early on bad input
            out[spec.name] = expr
    return out
