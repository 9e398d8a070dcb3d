"""``hpf users``: the first administrators of an installation, and account recovery."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from hpf.cli.context import CliState
from hpf.domain.password_policy import PasswordPolicy
from hpf.repositories.uow import UnitOfWork
from hpf.services import users as service

ROLES = {"sysadmin": "系统管理员", "secadmin": "安全管理员", "auditadmin": "审计管理员"}


@click.group()
def users() -> None:
    """管理员初始化与账号恢复（在服务器上由运维人员执行，均记入审计日志）"""


def _policy(state: CliState) -> PasswordPolicy:
    s = state.settings.security
    return PasswordPolicy(
        s.password_min_length, s.password_min_classes, s.password_history, s.password_max_age_days
    )


@users.command("create-centre")
@click.argument("code")
@click.argument("name")
@click.option("--region", "region_code", required=True, help="行政区划代码（GB/T 2260，6 位）")
@click.pass_obj
def create_centre(state: CliState, code: str, name: str, region_code: str) -> None:
    """新装系统：建立机构树的根（住房公积金管理中心）；分中心与网点随后在工作台中设置"""
    state.preflight()
    service.bootstrap_centre(
        UnitOfWork(state.connected()),
        state.who("users create-centre"),
        datetime.now(UTC),
        code=code,
        name=name,
        region_code=region_code,
    )
    click.echo(f"已建立中心机构：{code} {name}")


@users.command("create-admin")
@click.argument("username")
@click.option("--role", type=click.Choice(sorted(ROLES)), required=True, help="三员之一")
@click.option("--org", "org_code", default="000000", show_default=True, help="所属机构代码")
@click.option("--name", "display_name", default="", help="姓名")
@click.password_option(
    "--password",
    prompt="临时密码",
    confirmation_prompt="再次输入",
    help="临时密码（首次登录须修改）；不提供时交互输入",
)
@click.pass_obj
def create_admin(
    state: CliState, username: str, role: str, org_code: str, display_name: str, password: str
) -> None:
    """创建（或为已有账号授予）系统管理员、安全管理员或审计管理员角色；三员互斥照常校验"""
    state.preflight()
    outcome = service.bootstrap_admin(
        UnitOfWork(state.connected()),
        state.who("users create-admin"),
        datetime.now(UTC),
        username=username,
        display_name=display_name,
        org_code=org_code,
        role=role,
        password=password,
        policy=_policy(state),
    )
    verb = "已创建" if outcome == "created" else "已授予"
    click.echo(f"{verb}{ROLES[role]}：{username}。首次登录须修改密码并绑定动态口令。")


@users.command("unlock")
@click.argument("username")
@click.pass_obj
def unlock(state: CliState, username: str) -> None:
    """解除账号的登录失败锁定"""
    state.preflight()
    service.operator_recover(
        UnitOfWork(state.connected()), state.who("users unlock"), datetime.now(UTC), username, unlock=True
    )
    click.echo(f"已解除 {username} 的锁定")


@users.command("reset-mfa")
@click.argument("username")
@click.pass_obj
def reset_mfa(state: CliState, username: str) -> None:
    """清除账号的动态口令绑定（认证器丢失时），下次登录重新绑定"""
    state.preflight()
    service.operator_recover(
        UnitOfWork(state.connected()),
        state.who("users reset-mfa"),
        datetime.now(UTC),
        username,
        reset_mfa=True,
    )
    click.echo(f"已重置 {username} 的动态口令，下次登录时重新绑定")
