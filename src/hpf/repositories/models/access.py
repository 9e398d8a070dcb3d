"""Access control: roles and their permissions, grants, per-user security settings, API
tokens, and the maker-checker (双人复核) requests.

Grants, role permissions and security settings carry a row MAC (访问控制信息完整性,
GB/T 39786): a grant inserted in SQL carries no valid MAC and is ignored, and reported.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column

from hpf.crypto import integrity
from hpf.crypto.fields import EncryptedString
from hpf.crypto.integrity import Sealed
from hpf.repositories.models.base import Base, utcnow
from hpf.repositories.models.org import User


class Role(Sealed, Base):
    __tablename__ = "role"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('business', 'sysadmin', 'secadmin', 'auditadmin')", name="kind"),
        {"comment": "角色"},
    )
    __integrity__ = ("code", "kind", "builtin")

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    kind: Mapped[str] = mapped_column(sa.String(12))
    builtin: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RolePermission(Sealed, Base):
    __tablename__ = "role_permission"
    __table_args__ = ({"comment": "角色权限"},)
    __integrity__ = ("role_id", "permission")

    role_id: Mapped[int] = mapped_column(sa.ForeignKey("role.id"), primary_key=True)
    permission: Mapped[str] = mapped_column(sa.String(40), primary_key=True)


class UserRole(Sealed, Base):
    __tablename__ = "user_role"
    __table_args__ = ({"comment": "用户角色授权"},)
    __integrity__ = ("user_id", "role_id")

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id"), primary_key=True)
    role_id: Mapped[int] = mapped_column(sa.ForeignKey("role.id"), primary_key=True, index=True)
    granted_by: Mapped[str] = mapped_column(sa.String(64))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserSecurity(Sealed, Base):
    """One row per user once anything here differs from the defaults."""

    __tablename__ = "user_security"
    __table_args__ = ({"comment": "用户安全设置：数据范围、首次登录改密、动态口令"},)
    __integrity__ = ("user_id", "scope_org_id", "must_change_password", "mfa_enabled", "mfa_secret")

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id"), primary_key=True)
    scope_org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_unit.id"))
    must_change_password: Mapped[bool] = mapped_column(default=False)
    mfa_enabled: Mapped[bool] = mapped_column(default=False)
    mfa_secret: Mapped[str | None] = mapped_column(EncryptedString(40, context="user_security.mfa_secret"))
    mfa_last_step: Mapped[int | None] = mapped_column(sa.BigInteger())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


@event.listens_for(User, "after_insert")
def _settings_for_new_user(mapper, connection, target) -> None:
    """Every account has its (sealed) settings row from the start, so a row deleted in SQL —
    to drop an administrator's second factor, say — is detected, not taken for a new user."""
    row = {"user_id": target.id, "scope_org_id": None, "must_change_password": False, "mfa_enabled": False,
           "mfa_secret": None, "mfa_last_step": None, "updated_at": utcnow()}
    integrity.seal_rows(connection, UserSecurity, [row])
    connection.execute(UserSecurity.__table__.insert().values(**row))


class ApiToken(Sealed, Base):
    __tablename__ = "api_token"
    __table_args__ = ({"comment": "接口令牌（只存哈希）"},)
    __integrity__ = ("prefix", "user_id", "secret_hash", "scopes", "expires_at", "revoked_at")

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    secret_hash: Mapped[str] = mapped_column(sa.String(64))
    scopes: Mapped[str] = mapped_column(sa.String(1000))  # space-separated permission codes
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(64))
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ApprovalPolicy(Sealed, Base):
    __tablename__ = "approval_policy"
    __table_args__ = (
        sa.CheckConstraint("mode IN ('always', 'above', 'never')", name="mode"),
        {"comment": "双人复核规则"},
    )
    __integrity__ = ("op_type", "mode", "threshold", "checker_permission")

    op_type: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    mode: Mapped[str] = mapped_column(sa.String(8))
    threshold: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))
    checker_permission: Mapped[str] = mapped_column(sa.String(40))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(sa.String(64), default="system")


class ApprovalRequest(Sealed, Base):
    __tablename__ = "approval_request"
    __table_args__ = (
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected', 'cancelled')", name="status"),
        sa.Index("ix_approval_request_status_op_type", "status", "op_type"),
        {"comment": "双人复核申请"},
    )
    # What the checker approves is what runs: the payload is sealed with the request.
    __integrity__ = ("op_type", "payload", "amount", "org_id", "maker_id", "status", "checker_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    op_type: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(10), default="pending")
    payload: Mapped[str] = mapped_column(sa.Text())  # JSON
    summary: Mapped[str] = mapped_column(sa.String(500))
    amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_unit.id"))
    maker_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id"), index=True)
    maker_name: Mapped[str] = mapped_column(sa.String(64))
    made_at: Mapped[datetime]
    checker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))
    checker_name: Mapped[str | None] = mapped_column(sa.String(64))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(sa.String(500))
    outcome: Mapped[str | None] = mapped_column(sa.String(500))
