"""``hpf audit``: verify the tamper-evident audit trail, sign a checkpoint."""

from __future__ import annotations

import json

import click

from hpf.cli.context import CliState
from hpf.crypto import selftest
from hpf.services import audit as service

KIND = {"modified": "被修改", "deleted": "被删除", "inserted": "被插入", "truncated": "末尾缺失",
        "checkpoint": "检查点不符"}


@click.group()
def audit() -> None:
    """审计日志：完整性校验与检查点签名"""


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.pass_obj
def verify(state: CliState, as_json: bool) -> None:
    """校验审计链：逐条重算 SM3 哈希与链接、完整性校验值和 SM2 签名检查点；发现问题时退出码为 1"""
    report = service.verify(state.connected())
    if as_json:
        data = {"ok": report.ok, "records": report.records, "head_seq": report.head_seq,
                "checkpoints": report.checkpoints, "problems": [p.__dict__ for p in report.problems]}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo(f"审计记录 {report.records} 条，链头第 {report.head_seq} 条，"
                   f"检查点 {report.checkpoints} 个")
        for p in report.problems:
            click.echo(f"  ✗ [{KIND[p.kind]}] {p.message}")
        click.echo("结论: " + ("审计链完整" if report.ok else f"发现 {len(report.problems)} 处问题"))
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
