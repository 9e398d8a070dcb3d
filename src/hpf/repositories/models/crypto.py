"""Data-encryption keys (DEKs), each stored wrapped under the master key (KEK)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hpf.repositories.models.base import Base, utcnow


class CryptoKey(Base):
    __tablename__ = "crypto_key"
    __table_args__ = (
        sa.UniqueConstraint("purpose", "version"),
        sa.CheckConstraint("status IN ('active', 'retired')", name="status"),
        {"comment": "数据密钥（由主密钥加密保护）"},
    )

    key_id: Mapped[str] = mapped_column(sa.String(24), primary_key=True)
    purpose: Mapped[str] = mapped_column(sa.String(20))
    version: Mapped[int]
    algorithm: Mapped[str] = mapped_column(sa.String(20))
    wrapped: Mapped[bytes] = mapped_column(sa.LargeBinary(1024))
    kek_id: Mapped[str] = mapped_column(sa.String(40))
    # HMAC-SM3(DEK, key id), 8 bytes hex: proves an unwrap produced the right key (a device
    # KEK unwrapping with the wrong index yields garbage rather than an error).
    check_value: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]
