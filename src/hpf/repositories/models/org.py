"""Organisations (centre -> branches -> counters) and staff users."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hpf.crypto.integrity import Sealed
from hpf.repositories.models.base import Base, utcnow


class OrgUnit(Base):
    __tablename__ = "org_unit"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('centre', 'branch', 'counter')", name="kind"),
        {"comment": "机构: 中心 / 分中心(管理部) / 网点柜台"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[str] = mapped_column(sa.String(10))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_unit.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(sa.String(6))  # GB/T 2260 行政区划代码
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Sealed, Base):
    __tablename__ = "app_user"
    __table_args__ = ({"comment": "工作人员账号"},)
    # 访问控制信息完整性 (GB/T 39786): a password hash or an account re-enabled in SQL shows up.
    __integrity__ = ("username", "org_id", "password_hash", "active")

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(64))
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_unit.id"), index=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
