"""Login throttling and password history."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hpf.repositories.models.base import Base


class LoginThrottle(Base):
    __tablename__ = "login_throttle"
    __table_args__ = ({"comment": "登录失败计数与锁定"},)

    username: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int]
    locked_until: Mapped[datetime | None]
    last_failed_at: Mapped[datetime]


class PasswordHistory(Base):
    __tablename__ = "password_history"
    __table_args__ = ({"comment": "历史口令哈希（防止重复使用）"},)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id"), index=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    changed_at: Mapped[datetime]


class StaffSession(Base):
    """A signed-in browser or API session, so that signing out (or an administrator disabling
    the account) ends it on the server: a copied cookie is worthless afterwards."""

    __tablename__ = "staff_session"
    __table_args__ = ({"comment": "登录会话（服务端可终止）"},)

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # SM3 of the cookie's token
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    ip: Mapped[str] = mapped_column(sa.String(45))
