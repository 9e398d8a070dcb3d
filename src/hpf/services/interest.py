"""结息: the annual settlement (年终结息) and the part-year interest of one account.

Interest follows from the account detail by the 积数 method (domain.interest): one query
sums, per account and rate segment, opening × days + Σ amount × days held — no account is
touched day by day. The settlement posts each account's interest (half-up to the fen) as a
detail line dated the settlement day, adds it to the balance and posts one voucher (Dr
41101 / Cr 201 per unit), all in one transaction; the ``interest_run`` row makes a second
run for the same year post nothing. A centre still on the pre-2016 split rates (上年结转 /
当年归集 differing) is settled account by account through the domain's SplitRates walk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from hpf.domain import interest as rules
from hpf.domain import ledger as books
from hpf.domain.calendar import business_date
from hpf.domain.errors import Conflict, NotFound, ValidationFailed
from hpf.repositories.models import InterestRun
from hpf.repositories.uow import UnitOfWork
from hpf.services import audit, ledger, params
from hpf.services.access import Principal
from hpf.services.units import load_in_scope

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class SettlementResult:
    interest_year: int
    period_start: date
    period_end: date
    accounts: int
    total: Decimal
    voucher_no: str | None
    already_settled: bool  # True: an earlier run settled this year, nothing was posted now


@dataclass(frozen=True)
class AccruedInterest:
    account_id: int
    account_no: str
    period_start: date
    to_date: date
    interest: Decimal
    unrounded: Decimal
    accumulators: tuple[rules.Accumulator, ...]


def rate_table(uow: UnitOfWork, code: str = "interest.rate.current_year") -> list[tuple[date, Decimal]]:
    return rules.rates_from_params(uow.params.values(code))


def _rates(uow: UnitOfWork, start: date, end: date) -> tuple[list[tuple[date, date, Decimal]], bool]:
    """The rate segments of the year, and whether the two portions' rates agree throughout."""
    current = rate_table(uow)
    prior = rate_table(uow, "interest.rate.prior_year")
    segments = rules.rate_periods(current, start, end)
    same = segments == rules.rate_periods(prior, start, end)
    return segments, same


def settle_year(
    uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, settle_year_: int
) -> SettlementResult:
    """年终结息 of the interest year ending on 30 June of ``settle_year_`` (re-runnable)."""
    actor.require("ledger:post")
    start, end = rules.interest_year(settle_year_)
    today = business_date(now)
    if today <= end:
        message = f"结息日 {end.isoformat()} 未过，不能结息"
        raise ValidationFailed(message, details={"interest_year": [message]})
    with uow:
        done = uow.collection.interest_run(settle_year_)
        if done is not None:
            voucher = uow.ledger.voucher(done.voucher_id) if done.voucher_id else None
            return SettlementResult(
                settle_year_,
                start,
                end,
                done.accounts,
                Decimal(done.total),
                voucher.voucher_no if voucher else None,
                True,
            )
        basis = int(params.value_on(uow, "interest.day_basis", end))
        segments, same = _rates(uow, start, end)
        run = uow.collection.add_interest_run(
            InterestRun(
                interest_year=settle_year_,
                period_start=start,
                period_end=end,
                settled_on=today,
                accounts=0,
                total=ZERO,
                created_by=actor.username,
            )
        )
        closed = uow.ledger.closed_through()
        on = end if closed is None or closed < end else today  # the voucher's day must be open
        summary = f"{start.isoformat()} 至 {end.isoformat()} 年度结息"
        if same and uow.collection.exact:
            # Set-based: per-unit totals for the voucher, then the lines and balances, all in SQL.
            # One GROUP BY pass into a temporary table; the voucher's per-unit totals, the
            # lines and the balances all read it.
            staged = uow.collection.stage_interest(uow.collection.interest_select(start, segments, basis))
            rows_sql = uow.collection.staged_rows(staged)
            per_unit = uow.collection.interest_by_unit(rows_sql)
            count = sum(n for _, n, _ in per_unit)
            voucher = _post_voucher(
                uow, actor, on, f"{summary}：{count} 户", [(u, t) for u, _, t in per_unit]
            )
            if voucher is not None:
                posted = uow.collection.insert_interest_detail(rows_sql, end, voucher.id, run.id)
                if posted != voucher.lines[0].debit:  # same rows for both: never, unless a bug
                    raise Conflict("结息明细合计与凭证不符，未入账", code="interest_moved")
            uow.collection.unstage(staged)
        else:
            rows = (
                uow.collection.interest_rows(start, segments, basis)
                if same
                else _split_rows(uow, start, end, basis)
            )
            count = len(rows)
            per_unit_total: dict[int | None, Decimal] = {}
            for _a, unit_id, amount in rows:
                per_unit_total[unit_id] = per_unit_total.get(unit_id, ZERO) + amount
            voucher = _post_voucher(uow, actor, on, f"{summary}：{count} 户", list(per_unit_total.items()))
            if voucher is not None:
                detail = [
                    {
                        "account_id": account_id,
                        "unit_id": unit_id,
                        "value_date": end,
                        "business_type": "09",
                        "amount": amount,
                        "unit_part": None,
                        "person_part": None,
                        "month": None,
                        "voucher_id": voucher.id,
                        "source_id": run.id,
                        "reversal_flag": "0",
                    }
                    for account_id, unit_id, amount in rows
                ]
                uow.collection.insert_detail(detail)
                uow.collection.add_balances_from_rows(detail)
        total = voucher.lines[0].debit if voucher is not None else ZERO
        run.accounts, run.total, run.voucher_id = count, total, voucher.id if voucher else None
        uow.session.flush()
        voucher_no = voucher.voucher_no if voucher else None
        audit.record(
            uow,
            actor.who(who),
            "interest.settle",
            target=f"interest_year:{settle_year_}",
            summary=f"{summary}：{count} 户，利息合计 {total:,.2f} 元"
            + (f"，凭证 {voucher_no}" if voucher_no else ""),
            now=now,
        )
        result = SettlementResult(settle_year_, start, end, count, total, voucher_no, False)
        uow.commit()
    return result


def _post_voucher(
    uow: UnitOfWork, actor: Principal, on: date, summary: str, per_unit: list[tuple[int | None, Decimal]]
):
    """Dr 41101 total / Cr 201 per unit; None when there is no interest at all."""
    credits = [
        books.Line(books.PROVIDENT_FUND, credit=amount, unit_id=unit_id)
        for unit_id, amount in sorted(per_unit, key=lambda kv: (kv[0] is None, kv[0] or 0))
        if amount
    ]
    if not credits:
        return None
    total = sum((line.credit for line in credits), ZERO)
    draft = books.check_balanced(
        books.VoucherDraft(
            on, books.ANNUAL_INTEREST, summary, (books.Line(books.INTEREST_EXPENSE, debit=total), *credits)
        )
    )
    return ledger.post(uow, draft, created_by=actor.username)


def _split_rows(uow: UnitOfWork, start: date, end: date, basis: int) -> list[tuple[int, int | None, Decimal]]:
    """Pre-2016 split rates: the domain's walk per account (slower, exact)."""
    split = rules.SplitRates(rate_table(uow, "interest.rate.prior_year"), rate_table(uow))
    out = []
    for account_id, unit_id in uow.collection.earning_accounts():
        moves = uow.collection.movements(account_id)
        opening = sum((amount for day, amount, _ in moves if day < start), ZERO)
        year = [
            (day, amount)
            for day, amount, kind in moves
            if start <= day <= end and not (kind == "09" and day == end)
        ]
        result = rules.settle(opening, year, split, start, end, day_basis=basis)
        if result.interest > 0:
            out.append((account_id, unit_id, result.interest))
    return out


def accrued(uow: UnitOfWork, actor: Principal, account_id: int, to_date: date) -> AccruedInterest:
    """销户结息 estimate: interest from the day after the last settlement to ``to_date``
    (the day the money leaves earns nothing). The closing withdrawal posts it."""
    actor.require("statement:view")
    with uow:
        account = uow.accounts.get(account_id)
        if account is None:
            raise NotFound("个人账户不存在")
        if account.unit_id is not None:
            load_in_scope(uow, actor, account.unit_id)
        result, start = _accrued(uow, account_id, to_date)
        return AccruedInterest(
            account.id,
            account.account_no,
            start,
            to_date,
            result.interest,
            result.unrounded,
            result.accumulators,
        )


def _accrued(uow: UnitOfWork, account_id: int, to_date: date) -> tuple[rules.InterestResult, date]:
    year = to_date.year if to_date > date(to_date.year, 6, 30) else to_date.year - 1
    start = date(year, 7, 1)  # the day after the last 30 June
    moves = uow.collection.movements(account_id)
    opening = sum((amount for day, amount, _ in moves if day < start), ZERO)
    period = [(day, amount) for day, amount, _ in moves if start <= day <= to_date]
    basis = int(params.value_on(uow, "interest.day_basis", to_date))
    _, same = _rates(uow, start, max(start, to_date - timedelta(days=1)))
    rates = (
        rate_table(uow)
        if same
        else rules.SplitRates(rate_table(uow, "interest.rate.prior_year"), rate_table(uow))
    )
    return rules.interest_to(opening, period, rates, start, to_date, day_basis=basis), start
