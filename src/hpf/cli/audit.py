"""``hpf audit``: verify the tamper-evident audit trail, sign a checkpoint, archive old
records (archive-then-purge) and re-check an archive file."""

from __future__ import annotations

import json
from pathlib import Path

import click

from hpf.cli.context import CliState
from hpf.crypto import selftest
from hpf.domain.audit import archive_cutoff
from hpf.domain.calendar import BUSINESS_TZ, start_of_business_day
from hpf.services import audit as service
from hpf.services.clock import Clock

KIND = {"modified": "被修改", "deleted": "被删除", "inserted": "被插入", "truncated": "末尾缺失",
        "checkpoint": "检查点不符", "archive": "归档不符"}


@click.group()
def audit() -> None:
    """审计日志：完整性校验、检查点签名、归档清理"""


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.pass_obj
def verify(state: CliState, as_json: bool) -> None:
    """校验审计链：逐条重算 SM3 哈希与链接、完整性校验值、归档登记和 SM2 签名检查点；发现问题时退出码为 1"""
    report = service.verify(state.connected())
    if as_json:
        data = {"ok": report.ok, "records": report.records, "head_seq": report.head_seq,
                "checkpoints": report.checkpoints, "archives": report.archives, "archived": report.archived,
                "problems": [p.__dict__ for p in report.problems]}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        archived = f"，已归档 {report.archived} 条（{report.archives} 个归档文件）" if report.archives else ""
        click.echo(f"审计记录 {report.records} 条，链头第 {report.head_seq} 条，"
                   f"检查点 {report.checkpoints} 个{archived}")
        _problems(report)
    if not report.ok:
        raise SystemExit(1)


@audit.command("checkpoint")
@click.pass_obj
def checkpoint(state: CliState) -> None:
    """用 SM2 审计签名密钥对当前链头签发检查点（调度作业 audit.checkpoint 每小时执行）"""
    state.settings  # noqa: B018 - activates the configured provider
    selftest.require()
    done = service.checkpoint(state.connected())
    click.echo("没有新的审计记录，无需签发" if done is None else
               f"已签发检查点：第 {done['seq']} 条，链哈希 {done['chain_hash'][:16]}…，密钥 {done['key_id']}")


@audit.command("archive")
@click.option("--before", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="只归档该日（北京时间 0 点）之前的记录；不能晚于留存期")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="归档目录（默认 [audit] archive_dir）")
@click.pass_obj
def archive(state: CliState, before, directory: Path | None) -> None:
    """将超过留存期（[audit] retention_days，至少 180 天）的审计记录写入 SM2 签名的归档文件，再从数据库清除"""
    settings = state.settings
    selftest.require()
    limit = start_of_business_day(before.date()) if before else None
    directory = directory or Path(settings.audit.archive_dir)
    done = service.archive(state.connected(), directory=directory, who=state.who("audit archive"),
                           before=limit, retention_days=settings.audit.retention_days)
    if done is None:
        cutoff = archive_cutoff(Clock().now(), settings.audit.retention_days, limit)
        click.echo(f"没有早于 {_beijing(cutoff)}的审计记录，无需归档")
        return
    click.echo(f"已归档并清除第 {done['from_seq']} 至 {done['to_seq']} 条审计记录，共 {done['records']} 条"
               f"（早于 {_beijing(done['cutoff'])}）：")
    for part in done["files"]:
        click.echo(f"  {part['path']}  第 {part['from_seq']} 至 {part['to_seq']} 条，"
                   f"SM3 {part['file_sm3'][:16]}…，签名密钥 {part['key_id']}")


@audit.command("verify-archive")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def verify_archive(state: CliState, file: Path) -> None:
    """重读归档文件：核对其 SM3 与数据库中的签名登记，逐条重算哈希链接与完整性校验值；发现问题时退出码为 1"""
    report = service.verify_archive(state.connected(), file)
    span = f"第 {report.from_seq} 至 {report.to_seq} 条，" if report.to_seq else ""
    click.echo(f"归档文件 {report.file_name}：{span}读取 {report.records} 条")
    if report.macs_unverifiable:
        click.echo(f"  注意：{report.macs_unverifiable} 条记录的完整性密钥已销毁，其校验值未核对")
    _problems(report, ok="归档文件完整")
    if not report.ok:
        raise SystemExit(1)


def _problems(report, ok: str = "审计链完整") -> None:
    for p in report.problems:
        click.echo(f"  ✗ [{KIND.get(p.kind, p.kind)}] {p.message}")
    click.echo("结论: " + (ok if report.ok else f"发现 {len(report.problems)} 处问题"))


def _beijing(at) -> str:
    return at.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M") + " 北京时间"
