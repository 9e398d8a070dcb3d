"""organisations (centre, branches, counters) and staff users

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hpf_adapters.db import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "org_unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("region_code", sa.String(6), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('centre', 'branch', 'counter')",
                           name=op.f("ck_org_unit_kind")),
        sa.ForeignKeyConstraint(["parent_id"], ["org_unit.id"],
                                name=op.f("fk_org_unit_parent_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_unit")),
        sa.UniqueConstraint("code", name=op.f("uq_org_unit_code")),
        comment="机构: 中心 / 分中心(管理部) / 网点柜台",
    )
    op.create_index(op.f("ix_org_unit_parent_id"), "org_unit", ["parent_id"])
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_login_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["org_unit.id"], name=op.f("fk_app_user_org_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
        comment="工作人员账号",
    )
    op.create_index(op.f("ix_app_user_org_id"), "app_user", ["org_id"])


def downgrade() -> None:
    op.drop_table("app_user")
    op.drop_table("org_unit")
