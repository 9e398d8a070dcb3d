"""batch job run history

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hpf_adapters.db import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_name", sa.String(64), nullable=False),
        sa.Column("run_key", sa.String(40), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("trigger_kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("host", sa.String(128), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=True),
        sa.Column("message", sa.String(500), nullable=True),
        sa.Column("error", sa.String(2000), nullable=True),
        sa.CheckConstraint("status IN ('running', 'succeeded', 'failed', 'abandoned')",
                           name=op.f("ck_job_run_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_run")),
        sa.UniqueConstraint("job_name", "run_key", "attempt",
                            name=op.f("uq_job_run_job_name_run_key_attempt")),
        comment="批处理作业运行记录",
    )
    op.create_index("ix_job_run_started", "job_run", ["job_name", "started_at"])


def downgrade() -> None:
    op.drop_table("job_run")
