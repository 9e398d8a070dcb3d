"""Lazily loaded settings and database for CLI commands."""

from __future__ import annotations

import dataclasses
from functools import cached_property

from hpf.config import Settings, load_settings
from hpf.crypto import runtime as crypto_runtime
from hpf.crypto import selftest
from hpf.domain.errors import ServiceUnavailable
from hpf.logs import configure_logging
from hpf.repositories import schema
from hpf.repositories.database import open_app_database
from hpf.services import crypto as crypto_service
from hpf_adapters.db import Database


class CliState:
    def __init__(self, config_file: str) -> None:
        self.config_file = config_file

    @cached_property
    def settings(self) -> Settings:
        settings = load_settings(config_file=self.config_file or None)
        configure_logging(settings.log.level, settings.log.format)
        crypto_runtime.start(settings.crypto, self_test=False)
        return settings

    @cached_property
    def database(self) -> Database:
        return open_app_database(self.settings)

    def use_database_url(self, url: str) -> None:
        """Point this command (and the server it starts) at another database."""
        self.settings = dataclasses.replace(
            self.settings, database=dataclasses.replace(self.settings.database, url=url))
        self.__dict__.pop("database", None)

    def connected(self) -> Database:
        """The database, checked: an unreachable server is one clear line, not a traceback."""
        self.database.check_connection()
        return self.database

    def who(self, command: str):
        """The audit trail's actor for a command: the operating-system account that ran it."""
        import getpass

        from hpf.services.audit import Who

        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        return Who(actor=f"os:{user}", request_id=f"cli:{command}")

    def preflight(self) -> None:
        """Before serving or running jobs: the crypto self-test passes, the database answers
        and its schema is current."""
        selftest.require()
        state = schema.state(self.connected())
        if not state.at_head:
            raise ServiceUnavailable(
                f"数据库结构版本 {state.current or '空'} 落后于程序版本 {state.head}，拒绝启动；"
                "请先执行: hpf db upgrade", code="schema_out_of_date")
        # A wrong master key fails here, once and clearly, not on every request later.
        crypto_service.check_keys(self.database)
