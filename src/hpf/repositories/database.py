"""The application's database handle: the adapters' Database bound to our support tables."""

from __future__ import annotations

from hpf.config import Settings
from hpf.repositories.models import support_tables
from hpf_adapters.db import Database, open_database


def open_app_database(settings: Settings, url: str | None = None) -> Database:
    return open_database(url or settings.database_url, settings.database, support_tables)
