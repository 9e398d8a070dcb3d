"""Depositors (个人) and their individual accounts (个人账户, GRZH).

The collection module builds the business on these; they exist from the crypto
foundation because they hold the most sensitive data in the system: identity numbers,
phones and bank cards are encrypted at rest (SM4-GCM) with blind indexes for look-up,
and the account balance carries an integrity MAC.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hpf.crypto.fields import BLIND_INDEX_LENGTH, EncryptedString
from hpf.crypto.integrity import Sealed
from hpf.repositories.models.base import Base, utcnow


class Person(Sealed, Base):
    __tablename__ = "person"
    __table_args__ = ({"comment": "个人基本信息（证件号、手机号、银行卡号加密存储）"},)
    # Over the plaintexts: a ciphertext moved from one person's row to another's (GCM's
    # associated data names the column, not the row) no longer matches this MAC.
    __integrity__ = ("name", "id_type", "id_number", "phone", "bank_card")
    __blind_indexes__: ClassVar = {
        "id_number_bidx": ("id_number", "person.id_number"),
        "phone_bidx": ("phone", "person.phone"),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    id_type: Mapped[str] = mapped_column(sa.String(2))  # code table 证件类型 (01 身份证)
    id_number: Mapped[str] = mapped_column(EncryptedString(32, context="person.id_number"))
    id_number_bidx: Mapped[str] = mapped_column(sa.String(BLIND_INDEX_LENGTH), index=True)
    phone: Mapped[str | None] = mapped_column(EncryptedString(20, context="person.phone"))
    phone_bidx: Mapped[str | None] = mapped_column(sa.String(BLIND_INDEX_LENGTH), index=True)
    bank_card: Mapped[str | None] = mapped_column(EncryptedString(32, context="person.bank_card"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IndividualAccount(Sealed, Base):
    __tablename__ = "individual_account"
    __table_args__ = (
        sa.CheckConstraint("balance >= 0", name="balance_not_negative"),
        {"comment": "个人住房公积金账户（余额带完整性校验值）"},
    )
    # The balance is not sealed here: a month's remittance moves a million balances in one
    # set-based statement. It is proven instead by `hpf ledger check` (balance = Σ account
    # detail, Σ balances = subject 201 of the sealed vouchers). Migration 0013.
    __integrity__ = ("account_no", "person_id", "status", "unit_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    account_no: Mapped[str] = mapped_column(sa.String(20), unique=True)  # GRZH
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(2))  # 个人账户状态 code (01 正常)
    balance: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2))
    opened_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The employer (kept when sealed, for history); None only for migrated sealed accounts.
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    deposit_base: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))  # 缴存基数
    status_before_freeze: Mapped[str | None] = mapped_column(sa.String(2))  # restored by 解冻
    closed_on: Mapped[date | None]
