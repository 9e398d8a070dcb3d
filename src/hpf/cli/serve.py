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
@click.option("--tlcp/--no-tlcp", "tlcp", default=None,
              help="同时以 TLCP（国密 SSL）在 [tlcp] bind 上提供服务 (默认 [tlcp] enabled)")
@click.option("--tlcp-bind", default=None, help="TLCP 监听地址 HOST:PORT (默认 [tlcp] bind)")
@click.pass_obj
def serve(state: CliState, bind, workers, threads, timeout, pid_file, tlcp, tlcp_bind) -> None:
    """启动 HTTP 服务 (gunicorn)。HUP 平滑重载，TERM 优雅退出，USR2 热升级。

    --tlcp：同一应用另以 TLCP 在 [tlcp] bind 上提供服务（证书见 hpf certs make-server），
    [tlcp] plain_http 为 true 时 [server] bind 仍提供明文 HTTP，配置 tls_bind 时另提供 TLS。"""
    from hpf.config import resolve_tlcp

    overrides = {k: v for k, v in {"bind": bind, "workers": workers, "threads": threads,
                                    "timeout": timeout, "pid_file": pid_file}.items()
                 if v is not None}
    tlcp_overrides = {k: v for k, v in {"enabled": tlcp, "bind": tlcp_bind}.items() if v is not None}
    settings = dataclasses.replace(
        state.settings, server=dataclasses.replace(state.settings.server, **overrides),
        tlcp=dataclasses.replace(state.settings.tlcp, **tlcp_overrides))
    if settings.tlcp.enabled:
        from hpf.tlcp import server as tlcp_server

        settings = resolve_tlcp(settings)  # certificate paths; missing files stop the start here
        tlcp_server.check(settings)  # every certificate and key loads, before any worker forks
    state.preflight()
    state.database.dispose()  # workers open their own pools after the fork
    from hpf.cli import gunicorn_app

    gunicorn_app.run(settings)
