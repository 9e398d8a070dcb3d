"""The ledger's vouchers (记账凭证, JZPZH) and their entries (分录).

Append-only: a wrong voucher is corrected by a reversing voucher (``reversal_of_id``),
never edited. Both carry an HMAC-SM3 over their business fields, so an amount, a subject
or a date changed in SQL is found by ``hpf crypto verify-integrity``. The collection and
accounting module posts here; the chart of accounts arrives with it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hpf.crypto.integrity import Sealed
from hpf.repositories.models.base import Base, utcnow


class LedgerVoucher(Sealed, Base):
    __tablename__ = "ledger_voucher"
    __table_args__ = ({"comment": "记账凭证（只增不改，错账以红字冲销）"},)
    __integrity__ = ("voucher_no", "business_date", "business_type", "summary", "reversal_of_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_no: Mapped[str] = mapped_column(sa.String(32), unique=True)
    business_date: Mapped[date] = mapped_column(index=True)
    business_type: Mapped[str] = mapped_column(sa.String(4))  # 归集/资金业务类型 code
    summary: Mapped[str] = mapped_column(sa.String(200))
    reversal_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_voucher.id"))
    created_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerEntry(Sealed, Base):
    __tablename__ = "ledger_entry"
    __table_args__ = (
        sa.UniqueConstraint("voucher_id", "line_no"),
        sa.CheckConstraint("debit >= 0 AND credit >= 0 AND (debit = 0 OR credit = 0)", name="one_side"),
        {"comment": "会计分录（借贷记账，带完整性校验值）"},
    )
    __integrity__ = ("voucher_id", "line_no", "subject_code", "debit", "credit", "account_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_voucher.id"))
    line_no: Mapped[int]
    subject_code: Mapped[str] = mapped_column(sa.String(12), index=True)  # 科目, e.g. 201, 41101
    debit: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2), default=Decimal("0.00"))
    credit: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2), default=Decimal("0.00"))
    # The individual account a line of subject 201 belongs to (the sub-ledger link).
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("individual_account.id"), index=True)
    # The unit sub-ledger of 201 (migration 0013): a remittance posts one 201 line per unit.
    unit_id: Mapped[int | None] = mapped_column(index=True)


class LedgerDay(Sealed, Base):
    """A closed business day (日结): nothing may be posted on or before the last one."""

    __tablename__ = "ledger_day"
    __table_args__ = ({"comment": "已日结的业务日（此日及以前不能再记账）"},)
    __integrity__ = ("business_date",)

    business_date: Mapped[date] = mapped_column(primary_key=True)
    closed_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_by: Mapped[str] = mapped_column(sa.String(64))
