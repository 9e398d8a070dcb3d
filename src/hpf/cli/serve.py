"""``hpf serve``: the production HTTP server (gunicorn)."""

from __future__ import annotations

import dataclasses

import click

from hpf.cli.context import CliState


@click.command()
@click.option("--bind", "-b", default=None, help="监听地址 HOST:PORT (默认 [server] bind)")
@click.option("--workers", "-w", type=click.IntRange(min=1), default=None,
              help="工作进程数 (默认 2×CPU+1，最多 16)")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="每进程线程数")
@click.option("--timeout", type=click.IntRange(min=1), default=None, help="请求超时秒数")
@click.option("--pid", "pid_file", default=None, help="PID 文件 (systemd/平滑重启用)")
@click.pass_obj
def serve(state: CliState, bind, workers, threads, timeout, pid_file) -> None:
    """启动 HTTP 服务 (gunicorn)。HUP 平滑重载，TERM 优雅退出，USR2 热升级。"""
    state.preflight()
    overrides = {k: v for k, v in {"bind": bind, "workers": workers, "threads": threads,
                                    "timeout": timeout, "pid_file": pid_file}.items()
                 if v is not None}
    settings = dataclasses.replace(
        state.settings, server=dataclasses.replace(state.settings.server, **overrides))
    state.database.dispose()  # workers open their own pools after the fork
    from hpf.cli import gunicorn_app

    gunicorn_app.run(settings)
