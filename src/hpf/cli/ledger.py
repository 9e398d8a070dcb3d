"""``hpf ledger``: check the books, close a business day (日结), print the trial balance."""

from __future__ import annotations

import click

from hpf.cli.context import CliState
from hpf.domain.access import DataScope
from hpf.domain.ledger import subject
from hpf.repositories.uow import UnitOfWork
from hpf.services import ledger as service
from hpf.services.access import Principal
from hpf.services.clock import Clock

KIND = {"voucher_unbalanced": "凭证借贷不平", "trial_balance": "试算不平衡",
        "control_account": "总分不符", "unit_sub_ledger": "单位分户账不符",
        "account_detail": "个人明细不符"}
DATE = click.DateTime(formats=["%Y-%m-%d"])


def _operator(state: CliState) -> Principal:
    """Whoever runs the command on the server: trusted like ``hpf audit archive``, audited as
    ``os:<account>``, with the ledger permissions the commands need."""
    name = state.who("ledger").actor
    return Principal(id=0, username=name, display_name=name, org_id=0, org_code="", org_name="",
                     permissions=frozenset({"ledger:view", "ledger:close"}), scope=DataScope(0, None))


@click.group()
def ledger() -> None:
    """总账：账务核对、日结、试算平衡表"""


@ledger.command("check")
@click.pass_obj
def check(state: CliState) -> None:
    """核对账务：凭证借贷平衡、试算平衡、个人账户余额合计与 201 科目一致、单位分户账、
    个人明细与余额一致；发现问题时退出码为 1"""
    findings = service.check(state.connected())
    for finding in findings:
        click.echo(f"  ✗ [{KIND.get(finding.kind, finding.kind)}] {finding.message}")
        if finding.kind in ("voucher_unbalanced", "unit_sub_ledger", "account_detail"):  # listed items
            for item in finding.items[:50]:
                click.echo(f"      {_item(item, finding.kind)}")
    click.echo("结论: " + (f"发现 {len(findings)} 处问题" if findings else "账务核对无误"))
    if findings:
        raise SystemExit(1)


@ledger.command("close-day")
@click.argument("day", type=DATE)
@click.pass_obj
def close_day(state: CliState, day) -> None:
    """日结：关闭该业务日，此日及以前不能再记账（须晚于上次日结、不晚于今天）"""
    database = state.connected()
    done = service.close_day(UnitOfWork(database), _operator(state), state.who("ledger close-day"),
                             Clock().now(), day.date())
    click.echo(f"已日结 {done.business_date.isoformat()}（操作人 {done.closed_by}）")


@ledger.command("trial-balance")
@click.option("--date", "day", type=DATE, default=None, help="截至该业务日（含），默认今天")
@click.pass_obj
def trial_balance(state: CliState, day) -> None:
    """试算平衡表：各科目借方、贷方发生额与余额（上级科目为下级之和）"""
    on = day.date() if day else Clock().today()
    report = service.trial_balance(UnitOfWork(state.connected()), _operator(state), on)
    click.echo(f"试算平衡表（截至 {on.isoformat()}）")
    click.echo(f"{'科目':<8}{'名称':<14}{'借方':>18}{'贷方':>18}{'余额':>18}")
    for row in report.rows:
        indent = "  " if subject(row.code).parent else ""
        click.echo(f"{indent + row.code:<8}{row.name:<14}{row.debit:>18,.2f}{row.credit:>18,.2f}"
                   f"{row.balance:>18,.2f}")
    click.echo(f"合计（明细科目）借方 {report.debit_total:,.2f}，贷方 {report.credit_total:,.2f}")
    click.echo("结论: " + ("试算平衡" if report.balanced else "试算不平衡"))
    if not report.balanced:
        raise SystemExit(1)


def _item(item, kind: str = "") -> str:
    if hasattr(item, "voucher_no"):
        return f"凭证 {item.voucher_no}：借方 {item.debit:.2f}，贷方 {item.credit:.2f}"
    if kind == "account_detail":
        account_no, balance, detail = item
        return f"个人账户 {account_no}：余额 {balance:.2f}，明细合计 {detail:.2f}"
    if isinstance(item, tuple) and len(item) == 3:
        unit, books, people = item
        return f"单位 {unit}：分户账 {books:.2f}，职工个人账户合计 {people:.2f}"
    return str(item)
