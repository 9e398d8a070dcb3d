"""Tables the portable fallbacks need (named locks/leases, sequences), and shared SQL types.

They are defined on the application's MetaData so that one Alembic history creates them on
every database; the adapter only receives the Table objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeDecorator

# Explicit, short constraint names: MySQL/OceanBase allow 64 characters, PostgreSQL 63, and
# Alembic needs names to drop constraints on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every database.

    PostgreSQL/openGauss store ``timestamptz``; MySQL/MariaDB/OceanBase ``DATETIME(6)`` and
    SQLite text hold naive UTC (sessions run in UTC). Values come back aware, in UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UtcDateTime needs a timezone-aware datetime")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):  # SQLite text read back without type affinity
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class SupportTables:
    lock: sa.Table
    sequence: sa.Table


def define_support_tables(metadata: sa.MetaData) -> SupportTables:
    lock = sa.Table(
        "hpf_lock",
        metadata,
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("acquired_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        comment="Named locks and leases (portable fallback; the scheduler's leader lease)",
    )
    sequence = sa.Table(
        "hpf_sequence",
        metadata,
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("next_value", sa.BigInteger(), nullable=False),
        comment="Counters for databases without native sequences",
    )
    return SupportTables(lock=lock, sequence=sequence)
