"""Remittances, bank credits, the account detail and interest runs: the set-based SQL.

A month's remittance of a large centre is a million lines, so listing, posting and interest
are INSERT ... SELECT / UPDATE ... FROM statements over whole batches, never a loop over
people. Money arithmetic in SQL is exact (NUMERIC) on PostgreSQL, openGauss, MySQL,
MariaDB and OceanBase; SQLite stores NUMERIC as floating point, so there the amounts are
computed in Python by the domain (the same rules) and loaded with ``bulk_insert``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hpf.crypto import integrity, keys
from hpf.domain import remittance as rules
from hpf.domain.accounts import INTEREST_STATES
from hpf.domain.contribution import ContributionRules, monthly_amount
from hpf.repositories.models import (
    AccountDetail,
    BankCredit,
    IndividualAccount,
    InterestRun,
    LedgerEntry,
    LedgerVoucher,
    Person,
    Remittance,
    RemittanceLine,
    Unit,
    support_tables,
)
from hpf_adapters.db import Adapter

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
PAYING_STATES = ("01",)  # 正常: the staff a monthly list is generated for
EARNING = sorted(INTEREST_STATES)  # sealed and frozen balances earn interest too
REMITTANCE_SEQUENCE = "remittance_no_seq"
# What an INSERT ... SELECT of account detail lines fills, in the order its SELECTs give.
DETAIL_COLUMNS = [
    "account_id",
    "unit_id",
    "value_date",
    "business_type",
    "amount",
    "unit_part",
    "person_part",
    "month",
    "voucher_id",
    "source_id",
    "reversal_flag",
]


class CollectionRepository:
    def __init__(self, session: Session, adapter: Adapter) -> None:
        self.session = session
        self.adapter = adapter

    @property
    def conn(self) -> sa.Connection:
        return self.session.connection()

    @property
    def exact(self) -> bool:
        """Whether the server does NUMERIC arithmetic exactly (not SQLite)."""
        return self.conn.dialect.name != "sqlite"

    # ----- numbers ------------------------------------------------------------------------
    def next_numbers(self, count: int) -> list[int]:
        if self.conn.dialect.name != "sqlite":
            return self.adapter.allocate(REMITTANCE_SEQUENCE, count)
        table = support_tables.sequence  # SQLite: in this transaction (one writer)
        bumped = self.session.execute(
            sa.update(table)
            .where(table.c.name == REMITTANCE_SEQUENCE)
            .values(next_value=table.c.next_value + count)
        )
        if bumped.rowcount == 0:
            self.session.execute(table.insert().values(name=REMITTANCE_SEQUENCE, next_value=count + 1))
            return list(range(1, count + 1))
        last = self.session.scalar(sa.select(table.c.next_value).where(table.c.name == REMITTANCE_SEQUENCE))
        return list(range(last - count, last))

    # ----- roster and lines ---------------------------------------------------------------
    def roster(self, unit_id: int) -> list[dict[str, Any]]:
        """The unit's people (any state) with their names, for import checks and display."""
        a, p = IndividualAccount, Person
        query = (
            sa.select(a.id, a.account_no, a.status, a.deposit_base, a.unit_id, p.name)
            .join(p, p.id == a.person_id)
            .where(a.unit_id == unit_id)
            .order_by(a.account_no)
        )
        return [dict(r) for r in self.session.execute(query).mappings()]

    def add_remittance(self, remittance: Remittance) -> Remittance:
        self.session.add(remittance)
        self.session.flush()
        return remittance

    def get(self, remittance_id: int, *, for_update: bool = False) -> Remittance | None:
        query = sa.select(Remittance).where(Remittance.id == remittance_id)
        if for_update:
            query = query.with_for_update()
        return self.session.scalar(query)

    def by_number(self, number: str) -> Remittance | None:
        return self.session.scalar(sa.select(Remittance).where(Remittance.remittance_no == number))

    def standing(self, unit_id: int, month: str) -> Remittance | None:
        return self.session.scalar(
            sa.select(Remittance).where(Remittance.live_key == rules.live_key(unit_id, month))
        )

    def generate_lines(
        self, remittance_ids: Sequence[int] | None, rules_: ContributionRules, month: str | None = None
    ) -> None:
        """清册 from the roster: base × ratio for every paying person of each remittance's
        unit, the two shares rounded separately per the rounding parameters. Either the
        given remittances, or every listed roster remittance of ``month`` without lines."""
        r, u, a = Remittance, Unit, IndividualAccount
        if remittance_ids is not None:
            which = r.id.in_(list(remittance_ids))
        else:
            has_lines = sa.exists().where(RemittanceLine.remittance_id == r.id)
            which = sa.and_(
                r.month == month,
                r.kind == rules.REMITTANCE,
                r.status == rules.LISTED,
                r.source == "roster",
                ~has_lines,
            )
        source = (
            sa.select(r.id, a.id.label("account_id"), a.deposit_base, u.unit_ratio, u.person_ratio)
            .join(u, u.id == r.unit_id)
            .join(a, a.unit_id == u.id)
            .where(which, a.status.in_(PAYING_STATES), a.deposit_base.is_not(None))
        )
        if not self.exact:
            rows = []
            for rid, account_id, base, unit_ratio, person_ratio in self.session.execute(source):
                amount = monthly_amount(Decimal(base), Decimal(unit_ratio), Decimal(person_ratio), rules_)
                rows.append(
                    {
                        "remittance_id": rid,
                        "account_id": account_id,
                        "base": base,
                        "unit_amount": amount.unit,
                        "person_amount": amount.person,
                        "amount": amount.total,
                    }
                )
            self.adapter.bulk_insert(self.conn, RemittanceLine.__table__, rows)
            return
        unit_amount = _round_sql(a.deposit_base * u.unit_ratio, rules_)
        person_amount = _round_sql(a.deposit_base * u.person_ratio, rules_)
        select = (
            sa.select(r.id, a.id, a.deposit_base, unit_amount, person_amount, unit_amount + person_amount)
            .select_from(r)
            .join(u, u.id == r.unit_id)
            .join(a, a.unit_id == u.id)
            .where(which, a.status.in_(PAYING_STATES), a.deposit_base.is_not(None))
        )
        l_ = RemittanceLine.__table__
        self.session.execute(
            l_.insert().from_select(
                ["remittance_id", "account_id", "base", "unit_amount", "person_amount", "amount"], select
            )
        )

    def roster_totals(self, unit_ids: Sequence[int], rules_: ContributionRules) -> dict[int, tuple]:
        """unit id → (people, unit total, person total) of a monthly list from the roster,
        rounded per line exactly as ``generate_lines`` does."""
        u, a = Unit, IndividualAccount
        paying = sa.and_(a.status.in_(PAYING_STATES), a.deposit_base.is_not(None))
        out: dict[int, tuple] = {}
        for chunk in _chunks(list(unit_ids), 5000):
            if self.exact:
                query = (
                    sa.select(
                        u.id,
                        sa.func.count(a.id),
                        sa.func.sum(_round_sql(a.deposit_base * u.unit_ratio, rules_)),
                        sa.func.sum(_round_sql(a.deposit_base * u.person_ratio, rules_)),
                    )
                    .join(a, a.unit_id == u.id)
                    .where(u.id.in_(chunk), paying)
                    .group_by(u.id)
                )
                out.update(
                    {uid: (int(n), _money(ut), _money(pt)) for uid, n, ut, pt in self.session.execute(query)}
                )
                continue
            query = (
                sa.select(u.id, a.deposit_base, u.unit_ratio, u.person_ratio)
                .join(a, a.unit_id == u.id)
                .where(u.id.in_(chunk), paying)
            )
            for uid, base, ur, pr in self.session.execute(query):
                amount = monthly_amount(Decimal(base), Decimal(ur), Decimal(pr), rules_)
                n, ut, pt = out.get(uid, (0, ZERO, ZERO))
                out[uid] = (n + 1, ut + amount.unit, pt + amount.person)
        return out

    def units_due(self, month: str, previous: str, org_ids) -> list[tuple[int, str]]:
        """Units that may remit ``month`` now: 正常/开户, paid up to the month before (or
        never paid), and without a standing remittance for it."""
        u, r = Unit, Remittance
        standing = sa.exists().where(
            r.unit_id == u.id, r.live_key.is_not(None), r.month == month, r.kind == rules.REMITTANCE
        )
        query = (
            sa.select(u.id, u.unit_no)
            .where(
                u.status.in_(rules.UNIT_CAN_REMIT),
                sa.or_(u.paid_up_to == previous, u.paid_up_to.is_(None)),
                ~standing,
            )
            .order_by(u.id)
        )
        if org_ids is not None:
            query = query.where(u.org_id.in_(org_ids))
        return [tuple(row) for row in self.session.execute(query)]

    def set_bases(self, bases: dict[int, Decimal]) -> None:
        """缴存基数 of many accounts at once (account id → new base)."""
        if bases:
            self.adapter.bulk_update(
                self.conn,
                IndividualAccount.__table__,
                "id",
                [{"id": k, "deposit_base": v} for k, v in bases.items()],
            )
            self.session.expire_all()

    def insert_headers(self, rows: list[dict[str, Any]]) -> None:
        integrity.seal_rows(self.session, Remittance, rows)
        self.adapter.bulk_insert(self.conn, Remittance.__table__, rows)

    def multiply_lines(self, remittance_id: int, months: int) -> None:
        """补缴 of several months from the roster: each line × the months covered."""
        l_ = RemittanceLine
        self.session.execute(
            sa.update(l_)
            .where(l_.remittance_id == remittance_id)
            .values(
                unit_amount=l_.unit_amount * months,
                person_amount=l_.person_amount * months,
                amount=l_.amount * months,
            )
            .execution_options(synchronize_session=False)
        )

    def insert_lines(self, rows: list[dict[str, Any]]) -> None:
        self.adapter.bulk_insert(self.conn, RemittanceLine.__table__, rows)

    def line_totals(self, remittance_ids: Sequence[int]) -> dict[int, tuple[int, Decimal, Decimal]]:
        l_ = RemittanceLine
        query = (
            sa.select(
                l_.remittance_id, sa.func.count(), sa.func.sum(l_.unit_amount), sa.func.sum(l_.person_amount)
            )
            .where(l_.remittance_id.in_(list(remittance_ids)))
            .group_by(l_.remittance_id)
        )
        return {rid: (n, _money(ua), _money(pa)) for rid, n, ua, pa in self.session.execute(query)}

    def lines(self, remittance_id: int, offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        l_, a, p = RemittanceLine, IndividualAccount, Person
        query = (
            sa.select(
                l_.account_id, a.account_no, p.name, l_.base, l_.unit_amount, l_.person_amount, l_.amount
            )
            .join(a, a.id == l_.account_id)
            .join(p, p.id == a.person_id)
            .where(l_.remittance_id == remittance_id)
            .order_by(a.account_no)
            .offset(offset)
        )
        if limit is not None:
            query = query.limit(limit)
        return [dict(r) for r in self.session.execute(query).mappings()]

    def orgs_of(self, remittance_ids: Sequence[int]) -> set[int]:
        """The managing branches of the remittances' units (for the data-scope check)."""
        found: set[int] = set()
        for chunk in _chunks(list(remittance_ids), 5000):
            found.update(
                self.session.scalars(
                    sa.select(Unit.org_id)
                    .join(Remittance, Remittance.unit_id == Unit.id)
                    .where(Remittance.id.in_(chunk))
                    .distinct()
                )
            )
        return found

    def search(
        self, *, org_ids, unit_id: int | None, month: str | None, status: str | None, offset: int, limit: int
    ) -> tuple[list[tuple[Remittance, Unit]], int]:
        query = sa.select(Remittance, Unit).join(Unit, Unit.id == Remittance.unit_id)
        if org_ids is not None:
            query = query.where(Unit.org_id.in_(org_ids))
        if unit_id is not None:
            query = query.where(Remittance.unit_id == unit_id)
        if month:
            query = query.where(Remittance.month == month)
        if status:
            query = query.where(Remittance.status == status)
        total = self.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
        rows = self.session.execute(query.order_by(Remittance.id.desc()).offset(offset).limit(limit))
        return [(r, u) for r, u in rows], int(total or 0)

    # ----- bank credits -------------------------------------------------------------------
    def add_credits(self, rows: list[dict[str, Any]]) -> int:
        """New credits (a bank_ref seen before is skipped: the bank may resend a file)."""
        if not rows:
            return 0
        known = set(
            self.session.scalars(
                sa.select(BankCredit.bank_ref).where(BankCredit.bank_ref.in_([r["bank_ref"] for r in rows]))
            )
        )
        fresh = [r for r in rows if r["bank_ref"] not in known]
        if fresh:
            integrity.seal_rows(self.session, BankCredit, fresh)
            self.adapter.bulk_insert(self.conn, BankCredit.__table__, fresh)
        return len(fresh)

    def credit(self, credit_id: int, *, for_update: bool = False) -> BankCredit | None:
        query = sa.select(BankCredit).where(BankCredit.id == credit_id)
        if for_update:
            query = query.with_for_update()
        return self.session.scalar(query)

    def open_credits(self, limit: int | None = None) -> list[BankCredit]:
        query = sa.select(BankCredit).where(BankCredit.status != "1").order_by(BankCredit.id)
        return list(self.session.scalars(query.limit(limit) if limit else query))

    def awaiting(self, numbers: Sequence[str]) -> dict[str, tuple[int, Decimal]]:
        """Listed remittances among ``numbers``: number → (id, total)."""
        out = {}
        for chunk in _chunks(list(numbers), 5000):
            query = sa.select(Remittance.remittance_no, Remittance.id, Remittance.total).where(
                Remittance.remittance_no.in_(chunk), Remittance.status == rules.LISTED
            )
            out.update({no: (rid, _money(total)) for no, rid, total in self.session.execute(query)})
        return out

    def mark_matched(self, pairs: list[dict[str, Any]]) -> None:
        """pairs: credit_id, remittance_id, value_date. Credits → matched, remittances → 已到账."""
        if not pairs:
            return
        self.adapter.bulk_update(
            self.conn,
            BankCredit.__table__,
            "id",
            [
                {"id": p["credit_id"], "status": "1", "remittance_id": p["remittance_id"], "note": None}
                for p in pairs
            ],
        )
        self.adapter.bulk_update(
            self.conn,
            Remittance.__table__,
            "id",
            [
                {
                    "id": p["remittance_id"],
                    "status": rules.CREDITED,
                    "bank_credit_id": p["credit_id"],
                    "credited_on": p["value_date"],
                }
                for p in pairs
            ],
        )

    def mark_credits(self, rows: list[dict[str, Any]]) -> None:
        """rows: id, status, note (unmatched credits with the reason)."""
        self.adapter.bulk_update(self.conn, BankCredit.__table__, "id", rows)

    # ----- posting ------------------------------------------------------------------------
    def claim_for_posting(self, remittance_ids: Sequence[int], on: date, by: str) -> int:
        """已到账 → 已入账 for the given remittances; the row locks order concurrent posts, and
        a remittance another transaction posted first is no longer 已到账 (rowcount says)."""
        done = 0
        for chunk in _chunks(list(remittance_ids), 5000):
            done += self.session.execute(
                sa.update(Remittance)
                .where(Remittance.id.in_(chunk), Remittance.status == rules.CREDITED)
                .values(status=rules.POSTED, posted_on=on, posted_by=by)
                .execution_options(synchronize_session=False)
            ).rowcount
        return done

    def _batch(self):
        """The remittances claimed by this transaction and not yet linked to a voucher."""
        return sa.and_(Remittance.status == rules.POSTED, Remittance.voucher_id.is_(None))

    def batch_units(self) -> list[tuple[int, int, str, str, str, Decimal, str | None, str]]:
        """(remittance id, unit id, kind, month, month_to, total, paid_up_to, unit status)."""
        r, u = Remittance, Unit
        query = (
            sa.select(r.id, r.unit_id, r.kind, r.month, r.month_to, r.total, u.paid_up_to, u.status)
            .join(u, u.id == r.unit_id)
            .where(self._batch())
            .order_by(r.id)
        )
        return [tuple(row) for row in self.session.execute(query)]

    def post_batch_detail(self, voucher_by_kind: dict[str, int], value_date: date) -> int:
        """The batch's lines as account detail, and the balances, set-based."""
        r, l_ = Remittance, RemittanceLine
        total = 0
        for kind, voucher_id in voucher_by_kind.items():
            where = sa.and_(self._batch(), r.kind == kind)
            select = (
                sa.select(
                    l_.account_id,
                    r.unit_id,
                    sa.func.coalesce(r.credited_on, value_date),
                    r.kind,
                    l_.amount,
                    l_.unit_amount,
                    l_.person_amount,
                    r.month,
                    sa.literal(voucher_id),
                    r.id,
                    sa.literal("0"),
                )
                .select_from(l_)
                .join(r, r.id == l_.remittance_id)
                .where(where)
            )
            total += self.session.execute(
                AccountDetail.__table__.insert().from_select(DETAIL_COLUMNS, select)
            ).rowcount
        sums = (
            sa.select(l_.account_id, sa.func.sum(l_.amount).label("amount"))
            .join(r, r.id == l_.remittance_id)
            .where(self._batch())
            .group_by(l_.account_id)
            .subquery()
        )
        self.add_to_balances(sums)
        return total

    def add_to_balances(self, sums) -> None:
        """balance += sums.amount for each sums.account_id (one UPDATE ... FROM)."""
        a = IndividualAccount.__table__
        self.session.execute(
            sa.update(a)
            .values(balance=a.c.balance + sums.c.amount)
            .where(a.c.id == sums.c.account_id)
            .execution_options(synchronize_session=False)
        )

    def link_batch(self, voucher_by_kind: dict[str, int]) -> None:
        for kind, voucher_id in voucher_by_kind.items():
            self.session.execute(
                sa.update(Remittance)
                .where(self._batch(), Remittance.kind == kind)
                .values(voucher_id=voucher_id)
                .execution_options(synchronize_session=False)
            )

    def advance_units(self, months: dict[int, str], activate: set[int]) -> None:
        """缴至年月 (and 开户 → 正常) for the batch's units, re-sealed in one bulk update."""
        if not months:
            return
        u = Unit.__table__
        ids = list(months)
        fields = [n for n in Unit.__integrity__ if n not in ("paid_up_to", "status")]
        rows = []
        keyring = keys.for_dialect(self.conn.dialect)
        key = keyring.active("integrity")
        for chunk in _chunks(ids, 5000):
            query = sa.select(u.c.id, u.c.status, *(u.c[n] for n in fields)).where(u.c.id.in_(chunk))
            for row in self.session.execute(query).mappings():
                values = dict(row)
                values["paid_up_to"] = months[row["id"]]
                if row["id"] in activate:
                    values["status"] = "01"
                rows.append(
                    {
                        "id": row["id"],
                        "paid_up_to": values["paid_up_to"],
                        "status": values["status"],
                        "row_mac": integrity.compute(key, "unit", Unit.__integrity__, values),
                    }
                )
        self.adapter.bulk_update(self.conn, u, "id", rows)
        self.session.expire_all()

    # ----- reversal -----------------------------------------------------------------------
    def reverse_detail(self, remittance_id: int, voucher_id: int, on: date) -> int:
        """Red lines for a remittance's detail (same value date, so interest nets out) and
        the balances back."""
        d = AccountDetail
        select = sa.select(
            d.account_id,
            d.unit_id,
            d.value_date,
            d.business_type,
            -d.amount,
            -d.unit_part,
            -d.person_part,
            d.month,
            sa.literal(voucher_id),
            d.source_id,
            sa.literal("1"),
        ).where(d.source_id == remittance_id, d.business_type.in_(list(rules.KINDS)), d.reversal_flag == "0")
        count = self.session.execute(
            AccountDetail.__table__.insert().from_select(DETAIL_COLUMNS, select)
        ).rowcount
        sums = (
            sa.select(d.account_id, sa.func.sum(d.amount).label("amount"))
            .where(d.voucher_id == voucher_id)
            .group_by(d.account_id)
            .subquery()
        )
        self.add_to_balances(sums)
        return count

    def short_balances(self, remittance_id: int) -> list[str]:
        """Accounts that no longer hold what this remittance paid in (withdrawn since)."""
        d, a = AccountDetail, IndividualAccount
        query = (
            sa.select(a.account_no)
            .join(d, d.account_id == a.id)
            .where(
                d.source_id == remittance_id,
                d.reversal_flag == "0",
                d.business_type.in_(list(rules.KINDS)),
                a.balance < d.amount,
            )
            .limit(20)
        )
        return list(self.session.scalars(query))

    def latest_posted_month(self, unit_id: int, exclude: int) -> str | None:
        r = Remittance
        return self.session.scalar(
            sa.select(sa.func.max(r.month_to)).where(
                r.unit_id == unit_id, r.kind == rules.REMITTANCE, r.status == rules.POSTED, r.id != exclude
            )
        )

    # ----- detail and statements ------------------------------------------------------------
    def detail(
        self,
        *,
        account_id: int | None = None,
        unit_id: int | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        business_type: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        d, a, v = AccountDetail, IndividualAccount, LedgerVoucher
        query = (
            sa.select(
                d.id,
                d.account_id,
                a.account_no,
                d.unit_id,
                d.value_date,
                d.business_type,
                d.amount,
                d.unit_part,
                d.person_part,
                d.month,
                d.reversal_flag,
                v.voucher_no,
            )
            .join(a, a.id == d.account_id)
            .join(v, v.id == d.voucher_id)
        )
        if account_id is not None:
            query = query.where(d.account_id == account_id)
        if unit_id is not None:
            query = query.where(d.unit_id == unit_id)
        if date_from is not None:
            query = query.where(d.value_date >= date_from)
        if date_to is not None:
            query = query.where(d.value_date <= date_to)
        if business_type:
            query = query.where(d.business_type == business_type)
        total = self.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
        query = query.order_by(d.value_date, d.id).offset(offset)
        rows = self.session.execute(query.limit(limit) if limit is not None else query).mappings()
        return [dict(r) for r in rows], int(total or 0)

    def balance_before(self, account_id: int, day: date) -> Decimal:
        d = AccountDetail
        return _money(
            self.session.scalar(
                sa.select(sa.func.sum(d.amount)).where(d.account_id == account_id, d.value_date < day)
            )
        )

    def movements(self, account_id: int, since: date | None = None) -> list[tuple[date, Decimal, str]]:
        d = AccountDetail
        query = sa.select(d.value_date, d.amount, d.business_type).where(d.account_id == account_id)
        if since is not None:
            query = query.where(d.value_date >= since)
        return [
            (vd, _money(amt), bt) for vd, amt, bt in self.session.execute(query.order_by(d.value_date, d.id))
        ]

    # ----- interest -----------------------------------------------------------------------
    def interest_run(self, year: int) -> InterestRun | None:
        return self.session.scalar(sa.select(InterestRun).where(InterestRun.interest_year == year))

    def add_interest_run(self, run: InterestRun) -> InterestRun:
        self.session.add(run)
        self.session.flush()
        return run

    def accumulators(self, start: date, segments: Sequence[tuple[date, date]]) -> sa.Subquery:
        """Per interest-earning account and rate segment, the Σ of daily balances (积数) from
        the detail: Σ amount × the days it was held within the segment (a line before the
        year counts every day: that is the opening balance × days). The year's own interest
        line (09 on the settle day) is left out. One GROUP BY pass over the detail."""
        d, a = AccountDetail, IndividualAccount
        end = segments[-1][1]
        own_interest = sa.and_(d.business_type == "09", d.value_date == end)
        cols = [d.account_id.label("account_id"), a.unit_id.label("unit_id")]
        for i, (s, e) in enumerate(segments):
            days = (e - s).days + 1
            # days within [s, e] a line dated vd is held: all if vd <= s, else e - vd + 1 (0 after e)
            held = sa.case(
                (d.value_date <= s, days),
                (d.value_date <= e, self._days(sa.literal(e, sa.Date), d.value_date) + 1),
                else_=0,
            )
            cols.append(sa.func.sum(sa.case((own_interest, 0), else_=d.amount * held)).label(f"acc{i}"))
        return (
            sa.select(*cols)
            .join(a, a.id == d.account_id)
            .where(a.status.in_(EARNING), d.value_date <= end)
            .group_by(d.account_id, a.unit_id)
            .subquery()
        )

    def interest_select(self, start: date, segments: Sequence[tuple[date, date, Decimal]], basis: int):
        """(account_id, unit_id, interest) in SQL: Σ(积数 × rate) / basis, rounded half-up to
        the fen once per account; only accounts with interest. Exact NUMERIC arithmetic (not
        for SQLite)."""
        acc = self.accumulators(start, [(s, e) for s, e, _ in segments])
        total = sum(
            (
                acc.c[f"acc{i}"] * sa.literal(rate, sa.Numeric(12, 8))
                for i, (_, _, rate) in enumerate(segments)
            ),
            sa.literal(0),
        )
        interest = sa.func.round(total / basis, 2)
        inner = sa.select(acc.c.account_id, acc.c.unit_id, interest.label("interest")).subquery()
        return sa.select(inner.c.account_id, inner.c.unit_id, inner.c.interest).where(inner.c.interest > 0)

    def stage(self, name: str, select, columns: Sequence[sa.Column]) -> sa.Table:
        """``CREATE TEMPORARY TABLE name AS select`` in this transaction: a result read
        several times (per-unit totals, the lines, the balances) is computed once.
        PostgreSQL/openGauss drop it at commit; elsewhere ``unstage`` drops it."""
        compiled = select.compile(dialect=self.conn.dialect, compile_kwargs={"render_postcompile": True})
        params = (
            tuple(compiled.params[k] for k in compiled.positiontup)
            if compiled.positional
            else compiled.params
        )
        on_commit = " ON COMMIT DROP" if self.conn.dialect.name == "postgresql" else ""
        self.conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name}{on_commit} AS {compiled}", params)
        return sa.Table(name, sa.MetaData(), *columns)

    def unstage(self, table: sa.Table) -> None:
        self.conn.exec_driver_sql(f"DROP TABLE {table.name}")

    def stage_interest(self, interest_sql) -> sa.Table:
        return self.stage(
            "tmp_interest",
            interest_sql,
            [
                sa.Column("account_id", sa.Integer),
                sa.Column("unit_id", sa.Integer),
                sa.Column("interest", sa.Numeric(18, 2)),
            ],
        )

    def staged_rows(self, staged: sa.Table):
        return sa.select(staged.c.account_id, staged.c.unit_id, staged.c.interest)

    def interest_by_unit(self, interest_sql) -> list[tuple[int | None, int, Decimal]]:
        sub = interest_sql.subquery()
        query = sa.select(sub.c.unit_id, sa.func.count(), sa.func.sum(sub.c.interest)).group_by(sub.c.unit_id)
        return [(u, int(n), _money(t)) for u, n, t in self.session.execute(query)]

    def insert_interest_detail(self, interest_sql, on: date, voucher_id: int, run_id: int) -> Decimal:
        """The interest lines from ``interest_sql`` and the balances, set-based; returns Σ."""
        sub = interest_sql.subquery()
        select = sa.select(
            sub.c.account_id,
            sub.c.unit_id,
            sa.literal(on, sa.Date),
            sa.literal("09"),
            sub.c.interest,
            sa.literal(voucher_id),
            sa.literal(run_id),
            sa.literal("0"),
        )
        self.session.execute(
            AccountDetail.__table__.insert().from_select(
                [
                    "account_id",
                    "unit_id",
                    "value_date",
                    "business_type",
                    "amount",
                    "voucher_id",
                    "source_id",
                    "reversal_flag",
                ],
                select,
            )
        )
        d = AccountDetail
        sums = (
            sa.select(d.account_id, d.amount.label("amount"))
            .where(d.voucher_id == voucher_id, d.business_type == "09")
            .subquery()
        )
        self.add_to_balances(sums)
        return _money(self.session.scalar(sa.select(sa.func.sum(d.amount)).where(d.voucher_id == voucher_id)))

    def _days(self, later, earlier) -> sa.ColumnElement:
        name = self.conn.dialect.name
        if name == "sqlite":
            return sa.cast(sa.func.julianday(later) - sa.func.julianday(earlier), sa.Integer)
        if name in ("mysql", "mariadb"):
            return sa.func.datediff(later, earlier)
        return sa.cast(later, sa.Date) - earlier  # PostgreSQL / openGauss: date - date = integer days

    def earning_accounts(self) -> list[tuple[int, int | None]]:
        a = IndividualAccount
        return [
            tuple(r)
            for r in self.session.execute(
                sa.select(a.id, a.unit_id).where(a.status.in_(EARNING)).order_by(a.id)
            )
        ]

    def interest_rows(
        self, start: date, segments: Sequence[tuple[date, date, Decimal]], basis: int
    ) -> list[tuple[int, int | None, Decimal]]:
        """(account id, unit id, interest) for every account with interest, the accumulator
        never rounded, the interest rounded half-up to the fen per account."""
        if not self.exact:
            return self._interest_rows_python(start, segments, basis)
        acc = self.accumulators(start, [(s, e) for s, e, _ in segments])
        query = sa.select(acc)
        out = []
        for row in self.session.execute(query).mappings():
            total = sum(
                (Decimal(row[f"acc{i}"] or 0) * rate for i, (_, _, rate) in enumerate(segments)), Decimal(0)
            )
            interest = (total / basis).quantize(CENT, rounding=ROUND_HALF_UP)
            if interest > 0:
                out.append((row["account_id"], row["unit_id"], interest))
        return out

    def _interest_rows_python(
        self, start: date, segments: Sequence[tuple[date, date, Decimal]], basis: int
    ) -> list[tuple[int, int | None, Decimal]]:
        """SQLite: the same accumulators walked in Python with exact decimals."""
        from itertools import groupby

        from hpf.domain.interest import accumulator_by_lines

        d, a = AccountDetail, IndividualAccount
        end = segments[-1][1]
        query = (
            sa.select(d.account_id, a.unit_id, d.value_date, d.amount, d.business_type)
            .join(a, a.id == d.account_id)
            .where(a.status.in_(EARNING), d.value_date <= end)
            .order_by(d.account_id)
        )
        out = []
        for (account_id, unit_id), rows in groupby(self.session.execute(query), key=lambda r: (r[0], r[1])):
            rows = list(rows)
            opening = sum((_money(r[3]) for r in rows if r[2] < start), ZERO)
            lines = [
                (r[2], _money(r[3])) for r in rows if r[2] >= start and not (r[4] == "09" and r[2] == end)
            ]
            total = Decimal(0)
            for s_, e_, rate in segments:
                before = opening + sum((amt for day, amt in lines if day < s_), ZERO)
                within = [(day, amt) for day, amt in lines if s_ <= day <= e_]
                total += accumulator_by_lines(before, within, s_, e_) * rate
            interest = (total / basis).quantize(CENT, rounding=ROUND_HALF_UP)
            if interest > 0:
                out.append((account_id, unit_id, interest))
        return out

    def insert_detail(self, rows: list[dict[str, Any]]) -> None:
        self.adapter.bulk_insert(self.conn, AccountDetail.__table__, rows)

    def add_balances_from_rows(self, rows: list[dict[str, Any]]) -> None:
        """balance += amount per (account_id, amount) dict, via a bulk update of new values."""
        a = IndividualAccount.__table__
        ids = [r["account_id"] for r in rows]
        current: dict[int, Decimal] = {}
        for chunk in _chunks(ids, 5000):
            current.update(
                dict(self.session.execute(sa.select(a.c.id, a.c.balance).where(a.c.id.in_(chunk))).all())
            )
        self.adapter.bulk_update(
            self.conn,
            a,
            "id",
            [
                {"id": r["account_id"], "balance": _money(current[r["account_id"]]) + r["amount"]}
                for r in rows
            ],
        )

    # ----- checks -------------------------------------------------------------------------
    def voucher_ids_with_detail(self, voucher_id: int) -> bool:
        return (
            self.session.scalar(
                sa.select(sa.func.count())
                .select_from(AccountDetail)
                .where(AccountDetail.voucher_id == voucher_id)
            )
            > 0
        )


def _round_sql(expr, rules_: ContributionRules):
    """The rounding of domain.contribution in SQL: to the fen or the yuan, half-up, up or down."""
    places = 0 if rules_.rounding_unit == Decimal("1") else 2
    if rules_.rounding_mode == "HALF_UP":
        return sa.func.round(expr, places)
    scale = sa.literal(Decimal(10) ** places, sa.Numeric(10, 0))
    fn = sa.func.ceil if rules_.rounding_mode == "UP" else sa.func.floor
    return sa.cast(fn(expr * scale) / scale, sa.Numeric(18, 2))


def _money(value) -> Decimal:
    return ZERO if value is None else Decimal(value).quantize(CENT)


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]


__all__ = ["CollectionRepository", "LedgerEntry"]
