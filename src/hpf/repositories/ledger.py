"""Vouchers, entries and closed days (总账): inserts, look-ups and the GROUP BY aggregates.

Entries are written set-based (one executemany, sealed by ``integrity.seal_rows``), so a
voucher of thousands of 201 lines costs one round trip, not one ORM flush per line.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hpf.crypto import integrity
from hpf.domain.ledger import PROVIDENT_FUND, LedgerAggregates, SubjectTotal, VoucherTotal
from hpf.repositories.models import (
    AccountDetail,
    IndividualAccount,
    LedgerEntry,
    LedgerVoucher,
    Unit,
    support_tables,
)
from hpf.repositories.models.ledger import LedgerDay
from hpf_adapters.db import Adapter

VOUCHER_SEQUENCE = "voucher_no_seq"
ZERO = Decimal("0.00")


class LedgerRepository:
    def __init__(self, session: Session, adapter: Adapter) -> None:
        self.session = session
        self.adapter = adapter

    # ----- numbers and closed days ---------------------------------------------------------
    def next_voucher_number(self) -> int:
        """The next voucher counter value. SQLite has one writer, and the caller's transaction
        may already hold it, so there the counter moves inside that transaction; elsewhere
        it is drawn in its own short transaction (gaps allowed, never reused)."""
        if self.session.get_bind().dialect.name != "sqlite":
            return self.adapter.allocate(VOUCHER_SEQUENCE)[0]
        table = support_tables.sequence
        bumped = self.session.execute(sa.update(table).where(table.c.name == VOUCHER_SEQUENCE)
                                      .values(next_value=table.c.next_value + 1))
        if bumped.rowcount == 0:
            self.session.execute(table.insert().values(name=VOUCHER_SEQUENCE, next_value=2))
            return 1
        return self.session.scalar(sa.select(table.c.next_value)
                                   .where(table.c.name == VOUCHER_SEQUENCE)) - 1

    def closed_through(self) -> date | None:
        return self.session.scalar(sa.select(sa.func.max(LedgerDay.business_date)))

    def add_day(self, day: LedgerDay) -> LedgerDay:
        self.session.add(day)
        self.session.flush()
        return day

    # ----- vouchers and entries -----------------------------------------------------------
    def add_voucher(self, voucher: LedgerVoucher) -> LedgerVoucher:
        self.session.add(voucher)
        self.session.flush()
        return voucher

    def insert_entries(self, rows: list[dict[str, Any]]) -> None:
        """Set-based insert (COPY where the server has it); each dict holds every sealed
        field of ``LedgerEntry``."""
        if rows:
            integrity.seal_rows(self.session, LedgerEntry, rows)
            self.adapter.bulk_insert(self.session.connection(), LedgerEntry.__table__, rows)

    def units_of(self, account_ids: Sequence[int]) -> dict[int, int]:
        """account id → its unit, for the unit sub-ledger of single-account 201 lines."""
        if not account_ids:
            return {}
        a = IndividualAccount
        return {i: u for i, u in self.session.execute(sa.select(a.id, a.unit_id).where(
            a.id.in_(set(account_ids)))) if u is not None}

    def voucher(self, voucher_id: int, *, for_update: bool = False) -> LedgerVoucher | None:
        query = sa.select(LedgerVoucher).where(LedgerVoucher.id == voucher_id)
        if for_update:
            query = query.with_for_update()
        return self.session.scalar(query)

    def entries(self, voucher_id: int) -> list[LedgerEntry]:
        query = sa.select(LedgerEntry).where(LedgerEntry.voucher_id == voucher_id)
        return list(self.session.scalars(query.order_by(LedgerEntry.line_no)))

    def reversal_of(self, voucher_id: int) -> LedgerVoucher | None:
        """The voucher that reverses ``voucher_id``, if any."""
        return self.session.scalar(sa.select(LedgerVoucher).where(LedgerVoucher.reversal_of_id == voucher_id)
                                   .order_by(LedgerVoucher.id).limit(1))

    def search(self, *, date_from: date | None, date_to: date | None, business_type: str | None,
               subject: str | None, page: int, per_page: int) -> tuple[list[LedgerVoucher], int]:
        """Vouchers newest first, filtered in SQL, with the total count."""
        query = sa.select(LedgerVoucher)
        if date_from is not None:
            query = query.where(LedgerVoucher.business_date >= date_from)
        if date_to is not None:
            query = query.where(LedgerVoucher.business_date <= date_to)
        if business_type:
            query = query.where(LedgerVoucher.business_type == business_type)
        if subject:
            query = query.where(LedgerVoucher.id.in_(
                sa.select(LedgerEntry.voucher_id).where(LedgerEntry.subject_code == subject)))
        total = self.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
        newest = (LedgerVoucher.business_date.desc(), LedgerVoucher.id.desc())
        rows = self.session.scalars(query.order_by(*newest).limit(per_page).offset((page - 1) * per_page))
        return list(rows), total or 0

    # ----- aggregates ---------------------------------------------------------------------
    def subject_totals(self, on_or_before: date | None = None) -> list[SubjectTotal]:
        e, v = LedgerEntry, LedgerVoucher
        query = (sa.select(e.subject_code, sa.func.sum(e.debit), sa.func.sum(e.credit))
                 .group_by(e.subject_code))
        if on_or_before is not None:
            query = query.join(v, v.id == e.voucher_id).where(v.business_date <= on_or_before)
        return [SubjectTotal(code, _dec(debit), _dec(credit))
                for code, debit, credit in self.session.execute(query)]

    def aggregates(self) -> LedgerAggregates:
        """What ``hpf ledger check`` compares, read with GROUP BY queries."""
        e, v, a = LedgerEntry, LedgerVoucher, IndividualAccount
        debit, credit = sa.func.sum(e.debit), sa.func.sum(e.credit)
        unbalanced = (sa.select(v.voucher_no, debit, credit).join(e, e.voucher_id == v.id)
                      .group_by(v.id, v.voucher_no).having(debit != credit).order_by(v.id))
        # Unit sub-ledgers: 201 lines by their unit (a remittance posts one per unit, a single
        # account's line carries the account's unit); compared with the people's balances.
        linked = (sa.select(e.unit_id, sa.func.sum(e.credit - e.debit))
                  .where(e.subject_code == PROVIDENT_FUND, e.unit_id.is_not(None)).group_by(e.unit_id))
        unit_balances = {unit: _dec(amount) for unit, amount in self.session.execute(linked)}
        people = (sa.select(a.unit_id, sa.func.sum(a.balance))
                  .where(a.unit_id.in_(list(unit_balances) or [-1])).group_by(a.unit_id))
        return LedgerAggregates(
            voucher_totals=[VoucherTotal(no, _dec(d), _dec(c))
                            for no, d, c in self.session.execute(unbalanced)],
            subject_totals=self.subject_totals(),
            individual_total=_dec(self.session.scalar(sa.select(sa.func.sum(a.balance)))),
            unit_balances=unit_balances,
            unit_people={unit: _dec(amount) for unit, amount in self.session.execute(people)},
            detail_mismatches=self._detail_mismatches(),
        )

    def _detail_mismatches(self, limit: int = 20) -> list[tuple[str, Decimal, Decimal]]:
        """Accounts whose balance is not the sum of their detail. One aggregate over
        balances and negated detail together (UNION ALL, no join), so a planner with stale
        statistics after a bulk load cannot turn it into a nested loop over a million rows."""
        a, d = IndividualAccount, AccountDetail
        both = sa.union_all(
            sa.select(a.id.label("account_id"), a.balance.label("amount")),
            sa.select(d.account_id.label("account_id"), (-d.amount).label("amount")),
        ).subquery()
        off = (sa.select(both.c.account_id).group_by(both.c.account_id)
               .having(sa.func.round(sa.func.sum(both.c.amount), 2) != 0)  # SQLite sums in floating point
               .order_by(both.c.account_id).limit(limit))
        ids = list(self.session.scalars(off))
        if not ids:
            return []
        detail = (sa.select(d.account_id, sa.func.sum(d.amount)).where(d.account_id.in_(ids))
                  .group_by(d.account_id))
        totals = dict(self.session.execute(detail).all())
        rows = self.session.execute(sa.select(a.id, a.account_no, a.balance).where(a.id.in_(ids))
                                    .order_by(a.account_no))
        return [(no, _dec(balance), _dec(totals.get(i))) for i, no, balance in rows]

    def unit_numbers(self, unit_ids: Sequence[int]) -> dict[int, str]:
        if not unit_ids:
            return {}
        query = sa.select(Unit.id, Unit.unit_no).where(Unit.id.in_(list(unit_ids)))
        return dict(self.session.execute(query).all())


def _dec(value) -> Decimal:
    """SUM over no rows is NULL; SQLite may hand back a float-free Decimal or an int."""
    return ZERO if value is None else Decimal(value).quantize(Decimal("0.01"))
