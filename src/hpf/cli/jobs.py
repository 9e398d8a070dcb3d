"""``hpf jobs`` and ``hpf scheduler``."""

from __future__ import annotations

from datetime import date

import click

from hpf.cli.context import CliState
from hpf.domain.calendar import business_date
from hpf.jobs import load_jobs
from hpf.services import jobs as job_service
from hpf.services.clock import Clock


@click.group()
def jobs() -> None:
    """批处理作业: 列表、手工运行、运行记录"""


@jobs.command("list")
@click.pass_obj
def list_jobs(state: CliState) -> None:
    """列出已注册的作业及其调度"""
    for job in job_service.catalogue(state.settings, load_jobs()):
        click.echo(f"{job.name:<28}{job.schedule or '(不调度)':<18}{job.title}")


@jobs.command("run")
@click.argument("name")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="业务日期 YYYY-MM-DD (默认今天)")
@click.option("--rerun", is_flag=True, help="即使该日期已成功运行也再运行一次 (作业须幂等)")
@click.pass_obj
def run(state: CliState, name: str, day, rerun: bool) -> None:
    """手工运行作业 NAME；同一业务日期成功运行过则跳过"""
    registry = load_jobs()
    registry.get(name)  # unknown names fail before touching the database
    state.preflight()
    when: date = day.date() if day else business_date(Clock().now())
    result = job_service.run_job(state.database, registry, name, when, rerun=rerun, settings=state.settings)
    counts = ", ".join(f"{k}={v}" for k, v in result.counts.items())
    click.echo(f"{name} {when.isoformat()}: {result.status} (运行记录 #{result.run_id}) "
               f"{result.message} {counts}".rstrip())
    if result.status == "failed":
        raise SystemExit(1)


@jobs.command("history")
@click.option("--job", "job_name", default=None, help="只看某个作业")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.pass_obj
def history(state: CliState, job_name: str | None, limit: int) -> None:
    """最近的运行记录"""
    state.preflight()
    for r in job_service.history(state.database, job_name, limit):
        took = f"{(r.finished_at - r.started_at).total_seconds():.1f}s" if r.finished_at else "-"
        click.echo(f"#{r.id:<6}{r.job_name:<28}{r.run_key:<22}{r.attempt:<3}{r.trigger:<10}"
                   f"{r.status:<10}{r.started_at:%Y-%m-%d %H:%M:%S}Z {took:>8} {r.host}:{r.pid} "
                   f"{r.error or r.message or ''}")


@click.command()
@click.pass_obj
def scheduler(state: CliState) -> None:
    """运行调度进程 (独立于 Web 进程；可多实例，仅持有租约者触发作业)"""
    from hpf.jobs.scheduler import SchedulerService

    state.preflight()
    SchedulerService(state.settings, state.database, load_jobs()).run()
