"""Collection (归集): remittances and their lists, bank credits, account detail, interest runs.

``account_detail`` is the individual sub-ledger: every movement of an account is one signed
line, linked to the voucher that posted it; balances are its running sum and interest is
computed from it (积数法). It is append-only: a wrong line is corrected by a reversing line.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hpf.crypto.integrity import Sealed
from hpf.repositories.models.base import Base, utcnow

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class BankCredit(Sealed, Base):
    __tablename__ = "bank_credit"
    __table_args__ = ({"comment": "银行到账流水（来自银行接口，匹配汇缴单）"},)
    __integrity__ = ("bank_ref", "payer_account", "amount", "value_date", "reference")

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_ref: Mapped[str] = mapped_column(sa.String(40), unique=True)  # the bank's serial
    payer_account: Mapped[str] = mapped_column(sa.String(40))
    payer_name: Mapped[str] = mapped_column(sa.String(100))
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2))
    value_date: Mapped[date]
    reference: Mapped[str] = mapped_column(sa.String(200))  # 附言
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(sa.String(2), index=True)  # CREDIT_STATES
    remittance_id: Mapped[int | None]
    note: Mapped[str | None] = mapped_column(sa.String(200))


class Remittance(Sealed, Base):
    __tablename__ = "remittance"
    __table_args__ = (
        # Within half a fen: SQLite adds NUMERIC in binary floating point (migration 0015).
        sa.CheckConstraint("ABS(total - unit_total - person_total) < 0.005", name="total_parts"),
        sa.Index("ix_remittance_unit_id", "unit_id", "month"),
        {"comment": "汇缴单/补缴单（缴存清册表头；到账匹配后入账，错缴以冲销更正）"},
    )
    # What was listed and owed; status moves (matched, posted, reversed) are proven by the
    # vouchers they link to, so a batch of 100,000 postings does not reseal 100,000 rows.
    __integrity__ = ("remittance_no", "unit_id", "kind", "month", "month_to", "people", "total")

    id: Mapped[int] = mapped_column(primary_key=True)
    remittance_no: Mapped[str] = mapped_column(sa.String(16), unique=True)  # HJ + YYYYMM + 8 digits
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"))
    kind: Mapped[str] = mapped_column(sa.String(2))  # 归集业务类型: 01 汇缴, 02 补缴
    month: Mapped[str] = mapped_column(sa.String(6))  # the month paid (补缴: first month covered)
    month_to: Mapped[str] = mapped_column(sa.String(6))  # 补缴: last month covered (HBJNY)
    reason: Mapped[str | None] = mapped_column(sa.String(100))  # 补缴原因 (BJYY)
    source: Mapped[str] = mapped_column(sa.String(10))  # roster | import
    status: Mapped[str] = mapped_column(sa.String(2), index=True)  # REMITTANCE_STATES
    people: Mapped[int]
    unit_total: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2))
    person_total: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2))
    total: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2))
    # "<unit>:<month>" while a 汇缴 stands (unique), NULL once cancelled or reversed.
    live_key: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    bank_credit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bank_credit.id"), unique=True)
    credited_on: Mapped[date | None]
    voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_voucher.id"))
    posted_on: Mapped[date | None]
    posted_by: Mapped[str | None] = mapped_column(sa.String(64))
    reversal_voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_voucher.id"))
    reversal_reason: Mapped[str | None] = mapped_column(sa.String(100))
    created_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RemittanceLine(Base):
    __tablename__ = "remittance_line"
    __table_args__ = (
        sa.CheckConstraint(
            "unit_amount >= 0 AND person_amount >= 0 AND amount = unit_amount + person_amount", name="parts"
        ),
        {"comment": "缴存清册明细（每人一行：基数、单位与个人月缴存额）"},
    )

    remittance_id: Mapped[int] = mapped_column(sa.ForeignKey("remittance.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("individual_account.id"), primary_key=True)
    base: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2))
    unit_amount: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2))
    person_amount: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2))
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2))


class AccountDetail(Base):
    __tablename__ = "account_detail"
    __table_args__ = (
        sa.Index("ix_account_detail_account_id", "account_id", "value_date"),
        sa.Index("ix_account_detail_unit_id", "unit_id", "value_date"),
        {"comment": "个人明细账（带符号金额；计息按明细积数计算；错账以冲账行更正）"},
    )

    id: Mapped[int] = mapped_column(BIGID, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("individual_account.id"))
    unit_id: Mapped[int | None]  # the unit at posting time (employer statements)
    value_date: Mapped[date]  # interest runs from here (起息日)
    business_type: Mapped[str] = mapped_column(sa.String(2))  # 归集业务类型
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2))  # + into the account, - out
    unit_part: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))
    person_part: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))
    month: Mapped[str | None] = mapped_column(sa.String(6))  # 所属年月 (汇缴/补缴)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_voucher.id"), index=True)
    source_id: Mapped[int | None]  # the remittance or interest run
    reversal_flag: Mapped[str] = mapped_column(sa.String(1), default="0")  # 冲账标识: 0 正常, 1 冲账


class InterestRun(Sealed, Base):
    __tablename__ = "interest_run"
    __table_args__ = ({"comment": "年度结息批次（每个结息年度一次，重跑不重复入账）"},)
    __integrity__ = ("interest_year", "period_start", "period_end", "accounts", "total", "voucher_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    interest_year: Mapped[int] = mapped_column(unique=True)  # the year of its 30 June
    period_start: Mapped[date]
    period_end: Mapped[date]
    settled_on: Mapped[date]
    accounts: Mapped[int]
    total: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2))
    voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_voucher.id"))
    created_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
