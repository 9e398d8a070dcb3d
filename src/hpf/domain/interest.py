"""结息: deposit interest by daily balance accumulation (积数法), from the detail history.

积数 (balance-days) = Σ of the end-of-day balance over the days of a period; interest =
Σ(积数 × annual rate) / day basis (360 by default), rounded half-up to the fen once per
account (HPF_RULES §2). The 积数 is never rounded, and no account is touched day by day:
it follows from the opening balance and the dated detail lines (value date, signed amount).

Day counting, 算头不算尾 — a day earns on its end-of-day balance, hence:
- a deposit earns from its value date inclusive;
- a withdrawal stops earning on its value date (the money earned up to the day before);
- the settlement day (6/30) is an ordinary, earning day of the year it closes: a balance
  held all of 2025-07-01..2026-06-30 earns 365 days. The interest credited that day is not
  a movement of that year: it joins the next year's opening balance and earns from 7/1
  (annual compounding), so the accumulator query must leave the year's own 结息 line out;
- closure (销户结息) on day D accrues up to D − 1: D is the day the money leaves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

from hpf.domain.errors import ValidationFailed
from hpf.domain.params import DatedValue

CENT = Decimal("0.01")
DAY_BASIS = 360  # actual/360 (HPF_RULES §2); a parameter of every function below
# Enough digits that Σ(积数 × rate) / 360 is exact to far below a fen for any real balance,
# whatever context the caller's thread has set.
_CONTEXT = Context(prec=40)

Movement = tuple[date, Decimal]  # (value date 起息日, signed amount: + deposit, − withdrawal)
RateTable = Sequence[tuple[date, Decimal]]  # (effective_from, annual rate such as 0.015)

PRIOR_YEAR = "prior_year"      # 上年结转: the balance brought into the year
CURRENT_YEAR = "current_year"  # 当年归集: what was deposited during the year
WHOLE = "whole"                # one rate table for the whole balance (since 2016-02-21)
CURRENT_FIRST = "current_year_first"
PRIOR_FIRST = "prior_year_first"


@dataclass(frozen=True)
class SplitRates:
    """Separate dated rates for 上年结转 (the opening balance) and 当年归集 (this year's deposits).

    Before 2016-02-21 the two portions earned different rates (0.35% 活期 vs 1.10% 三个月,
    HPF_RULES §2); since then both earn 1.50% and a plain rate table suffices. A withdrawal
    draws on one portion first (``draw_order``, a city rule, 当年归集 first by default); what
    the first portion cannot cover comes out of the other.
    """

    prior_year: RateTable
    current_year: RateTable
    draw_order: str = CURRENT_FIRST  # CURRENT_FIRST | PRIOR_FIRST


@dataclass(frozen=True)
class Accumulator:
    """积数 of one stretch of days at one rate; ``period_to`` is inclusive."""

    period_from: date
    period_to: date
    rate: Decimal
    balance_days: Decimal  # never rounded
    portion: str = WHOLE   # WHOLE | PRIOR_YEAR | CURRENT_YEAR


@dataclass(frozen=True)
class InterestResult:
    accumulators: tuple[Accumulator, ...]
    interest: Decimal   # half-up to 0.01, the amount to post
    unrounded: Decimal  # Σ(积数 × rate) / day basis, kept for the statement and audits


def interest_year(settle_year: int, start_month: int = 7, start_day: int = 1) -> tuple[date, date]:
    """(first day, settlement day) of the interest year settled in ``settle_year``.

    The default year runs 7/1 → 6/30 (2026 → 2025-07-01..2026-06-30); a centre on calendar
    years passes 1, 1 (2026 → 2026-01-01..2026-12-31).
    """
    if (start_month, start_day) == (2, 29):
        raise ValidationFailed(details={"start_day": ["结息年度不能从 2 月 29 日开始"]})
    settle_date = date(settle_year, start_month, start_day) - timedelta(days=1)
    if settle_date.year < settle_year:  # a 1/1 start: the year ends on 12/31 of settle_year
        settle_date = date(settle_year + 1, start_month, start_day) - timedelta(days=1)
    following = settle_date + timedelta(days=1)
    return date(following.year - 1, start_month, start_day), settle_date


def settle(opening: Decimal, movements: Iterable[Movement], rates: RateTable | SplitRates,
           year_start: date, settle_date: date, *, day_basis: int = DAY_BASIS) -> InterestResult:
    """年终结息: interest of the year ``year_start``..``settle_date``, both days earning.

    ``opening`` is the balance at the start of ``year_start`` (last year's interest included);
    ``movements`` are the year's detail lines, the interest being settled excluded.
    """
    if settle_date < year_start:
        raise ValidationFailed(details={"settle_date": ["结息日不能早于结息年度起始日"]})
    moves = _within(movements, year_start, settle_date)
    return _accrue(opening, moves, rates, (year_start, settle_date), day_basis)


def interest_to(opening: Decimal, movements: Iterable[Movement], rates: RateTable | SplitRates,
                from_date: date, to_date: date, *, day_basis: int = DAY_BASIS) -> InterestResult:
    """销户结息: interest from ``from_date`` (the day after the last 结息日) to closure on ``to_date``.

    Same rules as :func:`settle`; ``to_date`` is the day the money leaves, so it earns nothing
    (算头不算尾) and a movement dated that day is accepted but earns no day.
    """
    if to_date < from_date:
        raise ValidationFailed(details={"to_date": ["计息截止日不能早于起息日"]})
    moves = [m for m in _within(movements, from_date, to_date) if m[0] < to_date]
    return _accrue(opening, moves, rates, (from_date, to_date - timedelta(days=1)), day_basis)


def balance_days(opening: Decimal, movements: Iterable[Movement], start: date, end: date) -> Decimal:
    """积数 of ``start``..``end`` (inclusive) in O(movements): Σ balance × days it was held.

    ``opening`` is the balance at the start of ``start``; every movement must fall in the period.
    """
    if end < start:
        raise ValidationFailed(details={"end": ["计息期间的结束日不能早于开始日"]})
    with localcontext(_CONTEXT):
        total, balance, cursor = Decimal(0), _money(opening), start
        for day, amount in _net_by_day(_within(movements, start, end)):
            total += balance * (day - cursor).days
            balance, cursor = balance + amount, day
        return total + balance * ((end - cursor).days + 1)


def accumulator_by_lines(opening: Decimal, lines: Iterable[Movement], start: date, end: date) -> Decimal:
    """The same 积数 written the set-based way: opening × days + Σ amount × days to the end.

    A line adds its amount to every end-of-day balance from its value date to ``end``, so
    each line contributes amount × (end − value date + 1) and no walk in date order is
    needed. ``opening`` is the balance before all ``lines``; a line dated before ``start``
    counts from ``start`` and one after ``end`` not at all. That makes it one SQL query
    for all accounts, per rate segment [s, e] (date arithmetic from the database adapter)::

        SELECT d.account_id,
               SUM(d.amount * (:e - GREATEST(d.value_date, :s) + 1)) AS line_days
          FROM account_detail d
         WHERE d.value_date BETWEEN :year_start AND :e AND d.business_type <> '09'
         GROUP BY d.account_id

    plus ``opening × (e − s + 1)`` from the balance brought into the year. (The pre-2016
    上年结转/当年归集 split depends on the order of withdrawals and is walked per account.)
    """
    if end < start:
        raise ValidationFailed(details={"end": ["计息期间的结束日不能早于开始日"]})
    with localcontext(_CONTEXT):
        total = _money(opening) * ((end - start).days + 1)
        for day, amount in lines:
            if day <= end:
                total += _money(amount) * ((end - max(day, start)).days + 1)
        return total


def rates_from_params(values: Sequence[DatedValue]) -> list[tuple[date, Decimal]]:
    """A rate table from the dated parameter values (e.g. ``interest.rate.current_year``)."""
    return [(v.effective_from, Decimal(v.value)) for v in values]


def _accrue(opening: Decimal, moves: list[Movement], rates: RateTable | SplitRates,
            period: tuple[date, date], day_basis: int) -> InterestResult:
    if day_basis <= 0:
        raise ValidationFailed(details={"day_basis": ["计息天数基准必须为正整数"]})
    first, last = period
    if last < first:  # closure on the first day of the period: nothing accrued
        accumulators: list[Accumulator] = []
    elif isinstance(rates, SplitRates):
        prior, current = _split(_money(opening), moves, rates.draw_order)
        accumulators = [*_segments(opening, prior, rates.prior_year, period, PRIOR_YEAR),
                        *_segments(Decimal(0), current, rates.current_year, period, CURRENT_YEAR)]
    else:
        accumulators = _segments(opening, moves, rates, period, WHOLE)
    with localcontext(_CONTEXT):
        unrounded = sum((a.balance_days * a.rate for a in accumulators), Decimal(0)) / day_basis
    # One rounding per account, after summing every segment (HPF_RULES §2).
    return InterestResult(tuple(accumulators), unrounded.quantize(CENT, ROUND_HALF_UP), unrounded)


def _segments(opening: Decimal, moves: list[Movement], rates: RateTable, period: tuple[date, date],
              portion: str) -> list[Accumulator]:
    out, balance = [], _money(opening)
    for seg_from, seg_to, rate in _rate_periods(rates, *period):
        inside = [m for m in moves if seg_from <= m[0] <= seg_to]
        out.append(Accumulator(seg_from, seg_to, rate, balance_days(balance, inside, seg_from, seg_to),
                               portion))
        with localcontext(_CONTEXT):
            balance += sum((amount for _, amount in inside), Decimal(0))
    return out


def _rate_periods(rates: RateTable, first: date, last: date) -> list[tuple[date, date, Decimal]]:
    """Split first..last where the rate changes; the rate of a day is the latest one in force."""
    table = sorted((day, _rate(rate)) for day, rate in rates)
    if len({day for day, _ in table}) != len(table):
        raise ValidationFailed(details={"rates": ["同一生效日期有多个利率"]})
    in_force = [r for r in table if r[0] <= first]
    if not in_force:
        raise ValidationFailed(details={"rates": [f"{first.isoformat()} 没有生效的存款利率"]})
    starts = [(first, in_force[-1][1]), *[r for r in table if first < r[0] <= last]]
    ends = [day - timedelta(days=1) for day, _ in starts[1:]] + [last]
    return [(day, end, rate) for (day, rate), end in zip(starts, ends, strict=True)]


rate_periods = _rate_periods  # public: the services split a year the same way


def _split(opening: Decimal, moves: list[Movement], draw_order: str) -> tuple[list[Movement], list[Movement]]:
    """The movements of 上年结转 and of 当年归集: deposits are this year's; withdrawals draw per order."""
    if draw_order not in (CURRENT_FIRST, PRIOR_FIRST):
        raise ValidationFailed(details={"draw_order": ["提取顺序应为当年归集优先或上年结转优先"]})
    held = {PRIOR_YEAR: opening, CURRENT_YEAR: Decimal(0)}
    order = (CURRENT_YEAR, PRIOR_YEAR) if draw_order == CURRENT_FIRST else (PRIOR_YEAR, CURRENT_YEAR)
    out: dict[str, list[Movement]] = {PRIOR_YEAR: [], CURRENT_YEAR: []}
    for day, amount in _net_by_day(moves):
        if amount >= 0:
            parts = {CURRENT_YEAR: amount}
        else:
            # Same-day lines are netted first, so the split never depends on their order.
            first_part = min(-amount, max(held[order[0]], Decimal(0)))
            parts = {order[0]: -first_part, order[1]: amount + first_part}
        for portion, part in parts.items():
            if part:
                held[portion] += part
                out[portion].append((day, part))
    return out[PRIOR_YEAR], out[CURRENT_YEAR]


def _within(movements: Iterable[Movement], start: date, end: date) -> list[Movement]:
    moves = [(day, _money(amount)) for day, amount in movements]
    outside = sorted({day for day, _ in moves if not start <= day <= end})
    if outside:
        raise ValidationFailed(details={"movements": [
            f"明细起息日 {outside[0].isoformat()} 不在计息期间 {start.isoformat()} 至 {end.isoformat()} 内"]})
    return moves


def _net_by_day(moves: Iterable[Movement]) -> list[Movement]:
    net: dict[date, Decimal] = {}
    for day, amount in moves:
        net[day] = net.get(day, Decimal(0)) + amount
    return sorted(net.items())


def _money(value: Decimal) -> Decimal:
    # float has no place in a money path (ARCHITECTURE §4): refuse it rather than convert it.
    if not isinstance(value, Decimal) or not value.is_finite():
        raise TypeError(f"money must be a finite Decimal, got {value!r}")
    return value


def _rate(value: Decimal) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise ValidationFailed(details={"rates": [f"存款利率 {value} 应为非负的 Decimal 数值"]})
    return value
