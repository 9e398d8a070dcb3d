"""``hpf demo``: an evaluation centre on SQLite, migrated, loaded and served."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from hpf.cli.context import CliState
from hpf.config import DEFAULT_SQLITE
from hpf.repositories.uow import UnitOfWork
from hpf.services import crypto as crypto_service
from hpf.services.demo import DEMO_PASSWORD, load_demo_centre


@click.command()
@click.option("--bind", "-b", default="127.0.0.1:8000", show_default=True, help="监听地址")
@click.option("--workers", "-w", type=click.IntRange(min=1), default=2, show_default=True)
@click.option("--reset", is_flag=True, help="删除已有的演示数据库后重建")
@click.option("--no-serve", is_flag=True, help="只建库和装载数据，不启动服务")
@click.pass_obj
def demo(state: CliState, bind: str, workers: int, reset: bool, no_serve: bool) -> None:
    """建立演示中心 (SQLite)：建库、迁移、装载演示数据并启动服务

    The demo uses the instance's default SQLite file, so that `hpf serve`, `hpf jobs` and
    `hpf db` without further configuration work on the same demo data afterwards. A
    configured server database (HPF_DATABASE_URL) is never touched by the demo.
    """
    path = Path(state.settings.instance_path) / DEFAULT_SQLITE
    path.parent.mkdir(parents=True, exist_ok=True)
    if reset:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    state.use_database_url(f"sqlite:///{path}")
    crypto_service.upgrade_database(state.database)
    logins = load_demo_centre(UnitOfWork(state.database))
    host, _, port = bind.rpartition(":")
    url = f"http://{'127.0.0.1' if host in ('', '0.0.0.0') else host}:{port}/"  # noqa: S104
    click.echo(f"演示数据库: {path}")
    click.echo(f"访问地址:   {url}")
    click.echo(f"接口文档:   {url}api/docs")
    click.echo(f"演示账号 (密码均为 {DEMO_PASSWORD}):")
    for login in logins:
        click.echo(f"  {login.username:<14}{login.display_name}  {login.org_name}")
    if no_serve:
        return
    settings = dataclasses.replace(state.settings, server=dataclasses.replace(
        state.settings.server, bind=bind, workers=workers))
    state.database.dispose()
    from hpf.cli import gunicorn_app

    gunicorn_app.run(settings)
