"""``hpf``: the operators' command line (database, server, scheduler, jobs, demo)."""

from __future__ import annotations

import sys

import click
from sqlalchemy.exc import DBAPIError

from hpf import __version__
from hpf.cli.context import CliState
from hpf.domain.errors import ConfigError, HpfError
from hpf_adapters.db import first_line


class HpfGroup(click.Group):
    """Turns project errors into one clear line and an exit code, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except HpfError as exc:
            click.echo(f"错误: {exc.for_operator}", err=True)
            details = exc.details if isinstance(exc.details, dict) else {}
            for field, messages in details.items():
                click.echo(f"  {field}: {messages}", err=True)
            ctx.exit(2 if isinstance(exc, ConfigError) else 1)
        except DBAPIError as exc:  # a server that went away mid-command, a missing grant...
            click.echo(f"错误: 数据库错误: {first_line(exc)}", err=True)
            ctx.exit(1)


@click.group(cls=HpfGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="hpf", message="%(prog)s %(version)s")
@click.option("--config", "config_file", envvar="HPF_CONFIG", default="",
              help="配置文件 (INI 或 TOML)，默认取环境变量 HPF_CONFIG")
@click.pass_context
def cli(ctx: click.Context, config_file: str) -> None:
    """HPF Core 住房公积金综合业务平台 — 运维命令行"""
    ctx.obj = CliState(config_file)


def _register() -> None:
    from hpf.cli import audit, certs, crypto, db, demo, jobs, ledger, serve, users

    cli.add_command(audit.audit)
    cli.add_command(certs.certs)
    cli.add_command(crypto.crypto)
    cli.add_command(db.db)
    cli.add_command(serve.serve)
    cli.add_command(demo.demo)
    cli.add_command(jobs.jobs)
    cli.add_command(jobs.scheduler)
    cli.add_command(ledger.ledger)
    cli.add_command(users.users)


_register()


def main() -> None:
    sys.exit(cli.main(prog_name="hpf"))
