"""``hpf db``: schema migrations and the database doctor."""

from __future__ import annotations

import json
import logging

import click

from hpf.cli.context import CliState
from hpf.crypto import selftest
from hpf.repositories import schema
from hpf.services import crypto as crypto_service
from hpf.services import system

_MARK = {"ok": "✓", "info": "·", "warning": "!", "fatal": "✗"}


@click.group()
def db() -> None:
    """数据库结构版本与环境检查"""


@db.command()
@click.argument("revision", default="head")
@click.pass_obj
def upgrade(state: CliState, revision: str) -> None:
    """升级数据库结构到 REVISION (默认 head)"""
    logging.getLogger("alembic.runtime.migration").setLevel(logging.INFO)
    selftest.require()  # keys are about to be generated and rows sealed: prove the crypto first
    result, done = crypto_service.upgrade_database(state.connected(), revision,
                                                   batch=state.settings.crypto.rotate_batch_size)
    click.echo(f"数据库 {state.database.display_url} 结构版本: {result.current} (最新 {result.head})")
    if done:
        click.echo(f"数据密钥: 新建 {done['keys_created']} 个；完整性校验值: 补签 {done['rows_sealed']} 行")


@db.command()
@click.argument("revision")
@click.pass_obj
def downgrade(state: CliState, revision: str) -> None:
    """降级数据库结构到 REVISION；base 表示全部撤销"""
    logging.getLogger("alembic.runtime.migration").setLevel(logging.INFO)
    result = schema.downgrade(state.connected(), revision)
    click.echo(f"数据库 {state.database.display_url} 结构版本: {result.current or 'base'}")


@db.command()
@click.pass_obj
def current(state: CliState) -> None:
    """显示当前结构版本与最新版本"""
    st = schema.state(state.connected())
    note = "最新" if st.at_head else "落后，请执行 hpf db upgrade"
    click.echo(f"当前版本: {st.current or 'base (空库)'}  最新版本: {st.head}  ({note})")


@db.command()
def history() -> None:
    """列出全部结构版本"""
    for revision, doc in schema.history():
        click.echo(f"{revision}  {doc}")


@db.command()
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.pass_obj
def doctor(state: CliState, as_json: bool) -> None:
    """检查数据库: 产品与版本、适配器、能力、编码、时区与结构版本；有致命问题时退出码为 1"""
    report = system.doctor(state.database, state.settings)
    if as_json:
        click.echo(json.dumps({
            "database": report.database, "server": report.server, "adapter": report.adapter,
            "capabilities": report.capabilities, "fatal": report.fatal,
            "findings": [f.__dict__ for f in report.findings]}, ensure_ascii=False, indent=2))
    else:
        click.echo(f"数据库:   {report.database}")
        click.echo(f"服务器:   {report.server or '未知'}")
        click.echo(f"适配器:   {report.adapter or '未知'}")
        if report.capabilities:
            caps = ", ".join(f"{k}={v}" for k, v in report.capabilities.items())
            click.echo(f"能力:     {caps}")
        for f in report.findings:
            click.echo(f"  {_MARK[f.level]} [{f.level}] {f.check}: {f.message}")
        click.echo("结论: " + ("存在致命问题，请先修复" if report.fatal else "可以使用"))
    if report.fatal:
        raise SystemExit(1)
