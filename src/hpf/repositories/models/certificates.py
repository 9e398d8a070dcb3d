"""Deposit certificates (缴存证明): what was printed, signed with the centre's SM2 key."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hpf.crypto.integrity import Sealed
from hpf.repositories.models.base import Base, utcnow


class DepositCertificate(Sealed, Base):
    __tablename__ = "deposit_certificate"
    __table_args__ = ({"comment": "缴存证明（打印内容、验证码与 SM2 签名，供公开核验）"},)
    # The printed facts and their signature: a row edited in SQL no longer verifies here,
    # and the SM2 signature proves the facts to anyone holding the public key.
    __integrity__ = ("code", "account_id", "issued_on", "facts", "signature", "key_id", "revoked_at")

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)  # 验证码, shown as XXXX-XXXX-XXXX-XXXX
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("individual_account.id"), index=True)
    purpose: Mapped[str] = mapped_column(sa.String(40))  # 用途: 贷款 / 租房 / 其他
    issued_on: Mapped[date]  # business date (Asia/Shanghai)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by: Mapped[str] = mapped_column(sa.String(64))
    facts: Mapped[str] = mapped_column(sa.Text())  # canonical JSON of the printed facts (signed)
    signature: Mapped[str] = mapped_column(sa.String(144))  # SM2 DER (at most 72 bytes), hex
    key_id: Mapped[str] = mapped_column(sa.String(24))
    revoked_at: Mapped[datetime | None]
