"""Alembic environment: runs on the application's own engine (with its session setup)."""

from __future__ import annotations

from alembic import context

from hpf.repositories.models import metadata

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # plain `alembic` usage: build the engine from HPF settings
        from hpf.config import load_settings
        from hpf.repositories.database import open_app_database

        settings = load_settings()
        database = open_app_database(settings)
        with database.engine.connect() as conn:
            _run(conn)
        return
    _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,          # SQLite can only ALTER through table copies
        transaction_per_migration=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("HPF Core migrations run online only: use `hpf db upgrade`.")
run_migrations_online()
