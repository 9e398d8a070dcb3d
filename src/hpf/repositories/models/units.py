"""Employers (单位, DWZH): the units that deposit for their staff, each managed by a branch."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hpf.crypto.fields import EncryptedString
from hpf.crypto.integrity import Sealed
from hpf.repositories.models.base import Base, utcnow


class Unit(Sealed, Base):
    __tablename__ = "unit"
    __table_args__ = (
        sa.CheckConstraint("deposit_day BETWEEN 1 AND 28", name="deposit_day"),
        {"comment": "单位缴存登记（单位账户，银行账号与联系电话加密存储）"},
    )
    # The fields that decide who pays what and which branch sees the unit.
    __integrity__ = ("unit_no", "credit_code", "org_id", "status", "unit_ratio", "person_ratio",
                     "paid_up_to")

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_no: Mapped[str] = mapped_column(sa.String(20), unique=True)  # DWZH
    credit_code: Mapped[str] = mapped_column(sa.String(18), unique=True)  # 统一社会信用代码
    name: Mapped[str] = mapped_column(sa.String(100))
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("org_unit.id"), index=True)  # managing branch
    status: Mapped[str] = mapped_column(sa.String(2))  # 单位账户状态 (accounts.UNIT_STATES)
    unit_ratio: Mapped[Decimal] = mapped_column(sa.Numeric(5, 4))
    person_ratio: Mapped[Decimal] = mapped_column(sa.Numeric(5, 4))
    deposit_day: Mapped[int]
    bank_name: Mapped[str] = mapped_column(sa.String(100))
    bank_account: Mapped[str] = mapped_column(EncryptedString(32, context="unit.bank_account"))
    contact_name: Mapped[str] = mapped_column(sa.String(60))
    contact_phone: Mapped[str] = mapped_column(EncryptedString(20, context="unit.contact_phone"))
    paid_up_to: Mapped[str | None] = mapped_column(sa.String(6))  # 缴至年月 YYYYMM
    opened_on: Mapped[date]
    closed_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
