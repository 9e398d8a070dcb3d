"""support tables: named locks/leases and sequence counters

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hpf_adapters.db import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hpf_lock",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("acquired_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_hpf_lock")),
        comment="Named locks and leases (portable fallback; the scheduler's leader lease)",
    )
    op.create_table(
        "hpf_sequence",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("next_value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_hpf_sequence")),
        comment="Counters for databases without native sequences",
    )


def downgrade() -> None:
    op.drop_table("hpf_sequence")
    op.drop_table("hpf_lock")
