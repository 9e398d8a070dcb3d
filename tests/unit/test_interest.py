"""结息 by 积数法: worked numbers from HPF_RULES §2, day counting, rate changes, the SQL form."""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpf.domain.errors import ValidationFailed
from hpf.domain.interest import (
    CURRENT_YEAR,
    PRIOR_FIRST,
    PRIOR_YEAR,
    Accumulator,
    SplitRates,
    accumulator_by_lines,
    balance_days,
    interest_to,
    interest_year,
    rates_from_params,
    settle,
)
from hpf.domain.params import DatedValue

D = Decimal
NOW = [(date(2016, 2, 21), D("0.015"))]  # 1.50% for every balance since 2016-02-21
Y2026 = (date(2025, 7, 1), date(2026, 6, 30))
# The 2015-07-01..2016-06-30 year straddles the change (rates simplified to one value before it).
PRIOR = [(date(2015, 7, 1), D("0.011")), (date(2016, 2, 21), D("0.015"))]    # 上年结转 1.10%
CURRENT = [(date(2015, 7, 1), D("0.0035")), (date(2016, 2, 21), D("0.015"))]  # 当年归集 0.35%
Y2016 = (date(2015, 7, 1), date(2016, 6, 30))


def test_interest_year_runs_july_to_june_or_as_configured():
    assert interest_year(2026) == Y2026
    assert interest_year(2026, 1, 1) == (date(2026, 1, 1), date(2026, 12, 31))
    assert interest_year(2026, 4, 1) == (date(2025, 4, 1), date(2026, 3, 31))


def test_100000_held_all_year_earns_1520_83():
    result = settle(D("100000.00"), [], NOW, *Y2026)
    assert result.accumulators == (Accumulator(*Y2026, D("0.015"), D("36500000")),)  # 365 days
    assert abs(result.unrounded - D("1520.833333333333")) < D("1E-12")  # 547,500 / 360
    assert result.interest == D("1520.83")


def test_the_rounded_daily_rate_is_not_used():
    # 0.00004167 ≈ 1.5%/360 overstates a year's interest by 0.13 on 100,000.
    wrong = (D("100000") * 365 * D("0.00004167")).quantize(D("0.01"), ROUND_HALF_UP)
    assert wrong == D("1520.96")
    assert settle(D("100000.00"), [], NOW, *Y2026).interest != wrong


def test_a_deposit_earns_from_its_value_date():
    # 1,200 on 2026-01-15 is held 15 Jan .. 30 Jun = 167 days.
    result = settle(D("100000.00"), [(date(2026, 1, 15), D("1200.00"))], NOW, *Y2026)
    assert result.accumulators[0].balance_days == D("100000") * 365 + D("1200") * 167
    assert result.interest == D("1529.18")  # 36,700,400 × 1.5% / 360 = 1529.1833


def test_a_withdrawal_stops_earning_on_its_value_date():
    # 100,000 for 1 Jul .. 28 Feb (243 days), 70,000 for 1 Mar .. 30 Jun (122 days).
    result = settle(D("100000.00"), [(date(2026, 3, 1), D("-30000.00"))], NOW, *Y2026)
    assert result.accumulators[0].balance_days == D("100000") * 243 + D("70000") * 122
    assert result.interest == D("1368.33")
    emptied = settle(D("100000.00"), [(date(2026, 3, 1), D("-100000.00"))], NOW, *Y2026)
    assert emptied.accumulators[0].balance_days == D("100000") * 243


def test_the_settlement_day_earns_but_the_day_after_does_not_belong():
    on_the_day = settle(D("0.00"), [(date(2026, 6, 30), D("36000.00"))], NOW, *Y2026)
    assert on_the_day.accumulators[0].balance_days == D("36000")  # one day
    assert on_the_day.interest == D("1.50")
    with pytest.raises(ValidationFailed) as err:
        settle(D("0.00"), [(date(2026, 7, 1), D("1.00"))], NOW, *Y2026)
    assert "不在计息期间" in str(err.value.details)


def test_same_day_lines_net_before_counting():
    moves = [(date(2026, 1, 1), D("500.00")), (date(2026, 1, 1), D("-500.00"))]
    assert settle(D("1000.00"), moves, NOW, *Y2026) == settle(D("1000.00"), [], NOW, *Y2026)


def test_a_rate_change_splits_the_year_and_rounds_once():
    result = settle(D("100000.00"), [], PRIOR, *Y2016)
    assert [(a.period_from, a.period_to, a.rate, a.balance_days) for a in result.accumulators] == [
        (date(2015, 7, 1), date(2016, 2, 20), D("0.011"), D("23500000")),   # 235 days
        (date(2016, 2, 21), date(2016, 6, 30), D("0.015"), D("13100000")),  # 131 days
    ]
    assert result.interest == D("1263.89")  # (258,500 + 196,500) / 360 = 1263.8889
    # 1.00 yuan: 0.00718 + 0.00546 = 0.01264 → 0.01; rounding each segment would pay 0.02.
    assert settle(D("1.00"), [], PRIOR, *Y2016).interest == D("0.01")


def test_prior_year_and_current_year_portions_earn_their_own_rates():
    rates = SplitRates(prior_year=PRIOR, current_year=CURRENT)
    result = settle(D("100000.00"), [(date(2015, 12, 1), D("10000.00"))], rates, *Y2016)
    got = {(a.portion, a.rate): a.balance_days for a in result.accumulators}
    assert got == {
        (PRIOR_YEAR, D("0.011")): D("23500000"), (PRIOR_YEAR, D("0.015")): D("13100000"),
        # 10,000 from 1 Dec: 82 days at 0.35%, then 131 days at 1.50%.
        (CURRENT_YEAR, D("0.0035")): D("820000"), (CURRENT_YEAR, D("0.015")): D("1310000"),
    }
    # 1263.8889 + (7.9722 + 54.5833) = 1326.4444
    assert result.interest == D("1326.44")


def test_a_withdrawal_draws_on_this_years_deposits_first_unless_configured():
    moves = [(date(2015, 12, 1), D("10000.00")), (date(2016, 1, 1), D("-15000.00"))]
    first = settle(D("100000.00"), moves, SplitRates(PRIOR, CURRENT), *Y2016)
    # 当年归集 emptied on 1 Jan; the other 5,000 leaves 上年结转 the same day.
    prior = sum(a.balance_days for a in first.accumulators if a.portion == PRIOR_YEAR)
    current = sum(a.balance_days for a in first.accumulators if a.portion == CURRENT_YEAR)
    assert current == D("10000") * 31
    assert prior == D("100000") * 184 + D("95000") * 182
    other = settle(D("100000.00"), moves, SplitRates(PRIOR, CURRENT, PRIOR_FIRST), *Y2016)
    current = sum(a.balance_days for a in other.accumulators if a.portion == CURRENT_YEAR)
    assert current == D("10000") * 213  # untouched from 1 Dec to 30 Jun
    # Spending the 0.35% portion first keeps more at 1.10% until 2016-02-21.
    assert first.interest > other.interest


def test_split_rates_equal_to_one_table_change_nothing():
    moves = [(date(2015, 9, 9), D("3000.00")), (date(2016, 3, 3), D("-50000.00"))]
    assert (settle(D("80000.00"), moves, SplitRates(PRIOR, PRIOR), *Y2016).unrounded
            == settle(D("80000.00"), moves, PRIOR, *Y2016).unrounded)


def test_closure_accrues_up_to_the_day_before():
    # Closed on 1 Oct: 1 Jul .. 30 Sep = 92 days.
    result = interest_to(D("100000.00"), [], NOW, date(2025, 7, 1), date(2025, 10, 1))
    assert result.accumulators[0].period_to == date(2025, 9, 30)
    assert result.interest == D("383.33")
    # A deposit on the closure day is accepted and earns nothing.
    late = interest_to(D("100000.00"), [(date(2025, 10, 1), D("9.99"))], NOW,
                       date(2025, 7, 1), date(2025, 10, 1))
    assert late.interest == result.interest


def test_closure_on_the_first_day_and_an_empty_account_earn_nothing():
    same_day = interest_to(D("5000.00"), [], NOW, date(2025, 7, 1), date(2025, 7, 1))
    assert (same_day.accumulators, same_day.interest) == ((), D("0.00"))
    assert settle(D("0.00"), [], NOW, *Y2026).interest == D("0.00")


def test_a_leap_interest_year_has_366_days():
    result = settle(D("100000.00"), [], NOW, *interest_year(2024))
    assert result.accumulators[0].balance_days == D("36600000")
    assert result.interest == D("1525.00")


def test_day_basis_is_a_parameter():
    assert settle(D("100000.00"), [], NOW, *Y2026, day_basis=365).interest == D("1500.00")


@pytest.mark.parametrize("rates, message", [
    ([(date(2025, 7, 2), D("0.015"))], "2025-07-01 没有生效的存款利率"),
    ([(date(2016, 2, 21), D("-0.015"))], "非负"),
    ([(date(2016, 2, 21), D("0.015")), (date(2016, 2, 21), D("0.0035"))], "多个利率"),
])
def test_bad_rate_tables_are_refused(rates, message):
    with pytest.raises(ValidationFailed) as err:
        settle(D("1.00"), [], rates, *Y2026)
    assert message in str(err.value.details)


def test_float_money_is_refused():
    with pytest.raises(TypeError):
        settle(100000.0, [], NOW, *Y2026)


def test_rates_come_from_dated_parameters():
    values = [DatedValue("0.0035", date(2015, 10, 24)), DatedValue("0.015", date(2016, 2, 21))]
    assert rates_from_params(values) == [(date(2015, 10, 24), D("0.0035")), (date(2016, 2, 21), D("0.015"))]


# --- properties ----------------------------------------------------------------------------------

START, END = Y2016
amounts = st.decimals(min_value=-10**6, max_value=10**6, places=2, allow_nan=False, allow_infinity=False)
days = st.integers(min_value=0, max_value=(END - START).days)
movements = st.lists(st.tuples(days.map(lambda n: START + timedelta(days=n)), amounts), max_size=30)
openings = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False)


@given(openings, movements)
def test_both_accumulator_formulations_agree(opening, moves):
    assert balance_days(opening, moves, START, END) == accumulator_by_lines(opening, moves, START, END)


@given(openings, movements, days.map(lambda n: START + timedelta(days=n)))
def test_the_set_based_form_gives_each_rate_segment_from_the_year_opening(opening, moves, cut):
    # What the per-segment SQL does: the year's opening and all lines, clamped to the segment.
    segment_opening = opening + sum((a for d, a in moves if d < cut), Decimal(0))
    inside = [(d, a) for d, a in moves if d >= cut]
    assert accumulator_by_lines(opening, moves, cut, END) == balance_days(segment_opening, inside, cut, END)


@given(openings, movements)
def test_interest_is_never_negative_on_non_negative_balances(opening, moves):
    kept, balance = [], opening
    for day, amount in sorted(moves):
        if balance + amount >= 0:  # a withdrawal never exceeds the balance
            kept.append((day, amount))
            balance += amount
    result = settle(opening, kept, PRIOR, START, END)
    assert result.interest >= 0 and all(a.balance_days >= 0 for a in result.accumulators)


@given(openings, movements, days.map(lambda n: START + timedelta(days=n + 1)))
def test_an_unchanged_rate_split_at_any_day_changes_nothing(opening, moves, cut):
    one = settle(opening, moves, [(START, D("0.015"))], START, END)
    two = settle(opening, moves, [(START, D("0.015")), (cut, D("0.015"))], START, END)
    assert one.unrounded == two.unrounded and one.interest == two.interest
