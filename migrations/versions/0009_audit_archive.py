"""audit trail retention: signed registry of archived (and purged) record ranges

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hpf_adapters.db import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_archive",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_seq", sa.Integer(), nullable=False),
        sa.Column("to_seq", sa.Integer(), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("cutoff", UtcDateTime(), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("file_sm3", sa.String(64), nullable=False),
        sa.Column("archived_at", UtcDateTime(), nullable=False),
        sa.Column("archived_by", sa.String(80), nullable=False),
        sa.Column("key_id", sa.String(24), nullable=False),
        sa.Column("signature", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_archive")),
        # Two archivers racing from the same anchor: the second insert fails, nothing is purged twice.
        sa.UniqueConstraint("from_seq", name=op.f("uq_audit_archive_from_seq")),
        comment="审计记录归档登记（归档文件 SM3 与 SM2 签名）",
    )


def downgrade() -> None:
    op.drop_table("audit_archive")
