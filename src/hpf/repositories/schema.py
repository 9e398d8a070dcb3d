"""Schema version management through Alembic (``hpf db upgrade|downgrade|current``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

import hpf_migrations
from hpf.domain.errors import HpfError
from hpf_adapters.db import Database


class UnknownRevision(HpfError):
    code = "unknown_revision"
    message = "未知的数据库结构版本"


@dataclass(frozen=True)
class SchemaState:
    current: str | None
    head: str

    @property
    def at_head(self) -> bool:
        return self.current == self.head


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", hpf_migrations.SCRIPT_LOCATION)
    return cfg


@cache
def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(database: Database) -> str | None:
    with database.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def state(database: Database) -> SchemaState:
    return SchemaState(current_revision(database), head_revision())


def upgrade(database: Database, revision: str = "head") -> SchemaState:
    _run(database, command.upgrade, revision)
    return state(database)


def downgrade(database: Database, revision: str) -> SchemaState:
    _run(database, command.downgrade, revision)
    return state(database)


def history() -> list[tuple[str, str]]:
    script = ScriptDirectory.from_config(alembic_config())
    return [(rev.revision, rev.doc) for rev in reversed(list(script.walk_revisions()))]


def _run(database: Database, fn, revision: str) -> None:
    cfg = alembic_config()
    script = ScriptDirectory.from_config(cfg)
    if revision not in ("head", "base") and not revision.startswith(("+", "-")):
        try:
            script.get_revision(revision)
        except Exception:  # alembic raises several types for a bad id
            known = ", ".join(r for r, _ in history())
            raise UnknownRevision(
                f"未知的数据库结构版本 {revision!r}；已有版本: {known}, base, head") from None
    with database.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        fn(cfg, revision)
