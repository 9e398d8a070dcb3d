"""明细对账单: the reads of the individual sub-ledger (account_detail) that statements need
beyond ``CollectionRepository.detail``: prefix sums for the running balance of a page,
totals of a filter, a unit's lines with the people's names, and a streamed export.

Lines are always ordered by (value_date, id), the order of ``CollectionRepository.detail``,
so a prefix sum here and a page there describe the same sequence.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hpf.repositories.models import AccountDetail, IndividualAccount, LedgerVoucher, Person, Unit

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class DetailFilter:
    """Which lines: one account or one unit (at posting time), and the optional filters."""

    account_id: int | None = None
    unit_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    business_type: str | None = None
    month_from: str | None = None  # 所属年月 YYYYMM (unit statements)
    month_to: str | None = None


class StatementRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _where(self, f: DetailFilter) -> list[sa.ColumnElement]:
        d = AccountDetail
        out: list[sa.ColumnElement] = []
        if f.account_id is not None:
            out.append(d.account_id == f.account_id)
        if f.unit_id is not None:
            out.append(d.unit_id == f.unit_id)
        if f.date_from is not None:
            out.append(d.value_date >= f.date_from)
        if f.date_to is not None:
            out.append(d.value_date <= f.date_to)
        if f.business_type:
            out.append(d.business_type == f.business_type)
        if f.month_from:
            out.append(d.month >= f.month_from)
        if f.month_to:
            out.append(d.month <= f.month_to)
        return out

    def sum_of_first(self, f: DetailFilter, count: int) -> Decimal:
        """Σ amount of the first ``count`` lines of the filter in (value_date, id) order."""
        if count <= 0:
            return ZERO
        d = AccountDetail
        first = (sa.select(d.amount).where(*self._where(f)).order_by(d.value_date, d.id)
                 .limit(count).subquery())
        return money(self.session.scalar(sa.select(sa.func.sum(first.c.amount))))

    def totals(self, f: DetailFilter) -> tuple[int, Decimal, Decimal]:
        """(lines, Σ of money in, Σ of money out as a positive number) over the whole filter."""
        d = AccountDetail
        query = sa.select(
            sa.func.count(),
            sa.func.sum(sa.case((d.amount > 0, d.amount), else_=0)),
            sa.func.sum(sa.case((d.amount < 0, -d.amount), else_=0)),
        ).where(*self._where(f))
        n, income, expense = self.session.execute(query).one()
        return int(n or 0), money(income), money(expense)

    def totals_by_type(self, f: DetailFilter) -> list[dict[str, Any]]:
        """Per business type: lines, Σ amount, Σ unit share, Σ person share."""
        d = AccountDetail
        query = (
            sa.select(d.business_type, sa.func.count(), sa.func.sum(d.amount), sa.func.sum(d.unit_part),
                      sa.func.sum(d.person_part))
            .where(*self._where(f)).group_by(d.business_type).order_by(d.business_type)
        )
        return [{"business_type": bt, "lines": int(n), "amount": money(a), "unit_part": money(u),
                 "person_part": money(p)} for bt, n, a, u, p in self.session.execute(query)]

    def count(self, f: DetailFilter) -> int:
        d = AccountDetail
        return int(self.session.scalar(sa.select(sa.func.count()).select_from(d).where(*self._where(f))) or 0)

    def _lines_query(self, f: DetailFilter):
        d, a, p, v = AccountDetail, IndividualAccount, Person, LedgerVoucher
        return (
            sa.select(d.id, d.account_id, a.account_no, p.name, d.unit_id, d.value_date, d.business_type,
                      d.amount, d.unit_part, d.person_part, d.month, d.reversal_flag, d.voucher_id,
                      v.voucher_no)
            .join(a, a.id == d.account_id)
            .join(p, p.id == a.person_id)
            .join(v, v.id == d.voucher_id)
            .where(*self._where(f))
            .order_by(d.value_date, d.id)
        )

    def lines(self, f: DetailFilter, offset: int, limit: int) -> list[dict[str, Any]]:
        """One page of lines with the account number and the holder's name."""
        rows = self.session.execute(self._lines_query(f).offset(offset).limit(limit)).mappings()
        return [dict(r) for r in rows]

    def stream(self, f: DetailFilter, chunk: int = 5000) -> Iterator[dict[str, Any]]:
        """Every line of the filter, fetched ``chunk`` rows at a time (exports)."""
        result = self.session.execute(
            self._lines_query(f).execution_options(stream_results=True, yield_per=chunk))
        for row in result.mappings():
            yield dict(row)

    def unit_numbers(self, ids: list[int]) -> dict[int, tuple[str, str]]:
        """unit id → (单位账号, name)."""
        if not ids:
            return {}
        query = sa.select(Unit.id, Unit.unit_no, Unit.name).where(Unit.id.in_(ids))
        return {i: (no, name) for i, no, name in self.session.execute(query)}

    def account_numbers(self, ids: list[int]) -> dict[int, tuple[str, str]]:
        """account id → (个人账号, holder's name)."""
        if not ids:
            return {}
        a, p = IndividualAccount, Person
        query = sa.select(a.id, a.account_no, p.name).join(p, p.id == a.person_id).where(a.id.in_(ids))
        return {i: (no, name) for i, no, name in self.session.execute(query)}


def money(value) -> Decimal:
    """A NUMERIC sum as yuan and fen (SQLite answers with a float: via its text)."""
    if value is None:
        return ZERO
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
