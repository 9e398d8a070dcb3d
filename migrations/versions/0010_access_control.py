"""roles, permissions, grants, user security settings, API tokens, maker-checker, server-side sessions, local code items

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22

Built-in roles and the default maker-checker rules are not inserted here: the rows carry
MACs under keys that live outside the database, so ``hpf db upgrade`` writes them through
the application after migrating (services.access.sync_builtin).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hpf_adapters.db import UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

MAC = sa.String(89)


def upgrade() -> None:
    op.create_table(
        "role",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("row_mac", MAC, nullable=True),
        sa.CheckConstraint("kind IN ('business', 'sysadmin', 'secadmin', 'auditadmin')",
                           name=op.f("ck_role_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role")),
        sa.UniqueConstraint("code", name=op.f("uq_role_code")),
        comment="角色",
    )
    op.create_table(
        "role_permission",
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.Column("permission", sa.String(40), nullable=False),
        sa.Column("row_mac", MAC, nullable=True),
        sa.ForeignKeyConstraint(["role_id"], ["role.id"], name=op.f("fk_role_permission_role_id_role")),
        sa.PrimaryKeyConstraint("role_id", "permission", name=op.f("pk_role_permission")),
        comment="角色权限",
    )
    op.create_table(
        "user_role",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.Column("granted_by", sa.String(64), nullable=False),
        sa.Column("granted_at", UtcDateTime(), nullable=False),
        sa.Column("row_mac", MAC, nullable=True),
        sa.ForeignKeyConstraint(["role_id"], ["role.id"], name=op.f("fk_user_role_role_id_role")),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_user_role_user_id_app_user")),
        sa.PrimaryKeyConstraint("user_id", "role_id", name=op.f("pk_user_role")),
        comment="用户角色授权",
    )
    op.create_index(op.f("ix_user_role_role_id"), "user_role", ["role_id"])
    op.create_table(
        "user_security",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("scope_org_id", sa.Integer(), nullable=True),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("mfa_enabled", sa.Boolean(), nullable=False),
        sa.Column("mfa_secret", sa.String(277), nullable=True),
        sa.Column("mfa_last_step", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("row_mac", MAC, nullable=True),
        sa.ForeignKeyConstraint(["scope_org_id"], ["org_unit.id"],
                                name=op.f("fk_user_security_scope_org_id_org_unit")),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_user_security_user_id_app_user")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_security")),
        comment="用户安全设置：数据范围、首次登录改密、动态口令",
    )
    # Existing accounts get their settings row now (sealed by `hpf db upgrade` right after);
    # later a missing row means one deleted outside the application.
    op.execute("INSERT INTO user_security (user_id, must_change_password, mfa_enabled, updated_at) "
               "SELECT id, 0 = 1, 0 = 1, CURRENT_TIMESTAMP FROM app_user")
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(1000), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("last_used_at", UtcDateTime(), nullable=True),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.Column("row_mac", MAC, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_api_token_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_token_prefix")),
        comment="接口令牌（只存哈希）",
    )
    op.create_index(op.f("ix_api_token_user_id"), "api_token", ["user_id"])
    op.create_table(
        "approval_policy",
        sa.Column("op_type", sa.String(40), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("threshold", sa.Numeric(18, 2), nullable=True),
        sa.Column("checker_permission", sa.String(40), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("row_mac", MAC, nullable=True),
        sa.CheckConstraint("mode IN ('always', 'above', 'never')", name=op.f("ck_approval_policy_mode")),
        sa.PrimaryKeyConstraint("op_type", name=op.f("pk_approval_policy")),
        comment="双人复核规则",
    )
    op.create_table(
        "approval_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("op_type", sa.String(40), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("summary", sa.String(500), nullable=False),
        sa.Column("amount", sa.Numeric(18, 2), nullable=True),
        sa.Column("org_id", sa.Integer(), nullable=True),
        sa.Column("maker_id", sa.Integer(), nullable=False),
        sa.Column("maker_name", sa.String(64), nullable=False),
        sa.Column("made_at", UtcDateTime(), nullable=False),
        sa.Column("checker_id", sa.Integer(), nullable=True),
        sa.Column("checker_name", sa.String(64), nullable=True),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.Column("decision_note", sa.String(500), nullable=True),
        sa.Column("outcome", sa.String(500), nullable=True),
        sa.Column("row_mac", MAC, nullable=True),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected', 'cancelled')",
                           name=op.f("ck_approval_request_status")),
        sa.ForeignKeyConstraint(["checker_id"], ["app_user.id"],
                                name=op.f("fk_approval_request_checker_id_app_user")),
        sa.ForeignKeyConstraint(["maker_id"], ["app_user.id"], name=op.f("fk_approval_request_maker_id_app_user")),
        sa.ForeignKeyConstraint(["org_id"], ["org_unit.id"], name=op.f("fk_approval_request_org_id_org_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_request")),
        comment="双人复核申请",
    )
    op.create_index(op.f("ix_approval_request_maker_id"), "approval_request", ["maker_id"])
    op.create_index("ix_approval_request_status_op_type", "approval_request", ["status", "op_type"])
    op.create_table(
        "staff_session",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=True),
        sa.Column("ip", sa.String(45), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_staff_session_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_session")),
        comment="登录会话（服务端可终止）",
    )
    op.create_index(op.f("ix_staff_session_user_id"), "staff_session", ["user_id"])
    # Each audit record names the actor's roles (who, in which capacity). Older records have
    # none, and their hashes leave it out (hpf.domain.audit.canonical).
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("role", sa.String(60), server_default="", nullable=False))
    # Code items a centre adds itself (数据字典 extensions), as against the standard's own.
    with op.batch_alter_table("code_item") as batch:
        batch.add_column(sa.Column("local", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("code_item") as batch:
        batch.drop_column("local")
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_column("role")
    op.drop_table("staff_session")
    op.drop_table("approval_request")
    op.drop_table("approval_policy")
    op.drop_table("api_token")
    op.drop_table("user_security")
    op.drop_table("user_role")
    op.drop_table("role_permission")
    op.drop_table("role")
