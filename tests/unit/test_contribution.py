from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpf.domain.contribution import (
    ContributionRules,
    MonthlyAmount,
    RuleBroken,
    YearMonth,
    base_cap,
    check_base,
    check_ratio,
    check_remittance_month,
    monthly_amount,
    months_between,
)
from hpf.domain.errors import ConfigError, ValidationFailed

# 当地最低工资 2,420; 上年社平 5,793 × 3 = 17,379 (HPF_RULES §1.2's example city)
CAP = D("17379.00")
CENTS = ContributionRules(D("0.05"), D("0.12"), D("2420.00"), CAP)
YUAN = ContributionRules(D("0.05"), D("0.12"), D("2420.00"), CAP, rounding_unit=D("1"))


def rules(unit: str = "0.01", mode: str = "HALF_UP") -> ContributionRules:
    return ContributionRules(D("0.05"), D("0.12"), D("2420.00"), CAP, D(unit), mode)


def message_of(excinfo, field: str) -> str:
    assert isinstance(excinfo.value, ValidationFailed) and excinfo.value.status == 422
    assert excinfo.value.code == "rule_broken" and list(excinfo.value.details) == [field]
    return excinfo.value.details[field][0]


# --- base cap, bounds ----------------------------------------------------------------------------

def test_base_cap_is_multiple_of_city_average_wage():
    assert base_cap(D("5793"), D("3")) == D("17379.00")
    assert base_cap(D("11761"), 3) == D("35283.00")
    assert base_cap(D("10000.01"), D("2.5")) == D("25000.02")   # 25000.025 truncated, never above


def test_ratio_bounds_are_inclusive():
    assert check_ratio(D("0.05"), CENTS) == D("0.05")
    assert check_ratio(D("0.12"), CENTS, "person_ratio") == D("0.12")


@pytest.mark.parametrize(("value", "field", "expected"), [
    (D("0.13"), "unit_ratio", "单位缴存比例 13% 超出允许范围 5%–12%"),
    (D("0.049"), "person_ratio", "个人缴存比例 4.9% 超出允许范围 5%–12%"),
    (D("0.1201"), "unit_ratio", "单位缴存比例 12.01% 超出允许范围 5%–12%"),
    (D("0"), "ratio", "缴存比例 0% 超出允许范围 5%–12%"),
    (D("-0.08"), "unit_ratio", "单位缴存比例 -8% 超出允许范围 5%–12%"),
    (D("12"), "unit_ratio", "单位缴存比例 1200% 超出允许范围 5%–12%"),   # percent typed as a number
    (D("NaN"), "unit_ratio", "单位缴存比例应为有效数值"),
    (D("Infinity"), "person_ratio", "个人缴存比例应为有效数值"),
])
def test_ratio_outside_band_is_refused(value, field, expected):
    with pytest.raises(RuleBroken) as excinfo:
        check_ratio(value, CENTS, field)
    assert message_of(excinfo, field) == expected


def test_base_bounds_are_inclusive():
    assert check_base(D("2420.00"), CENTS) == D("2420.00")
    assert check_base(D("17379.00"), CENTS) == D("17379.00")
    assert check_base(8000, CENTS) == D("8000")


@pytest.mark.parametrize(("value", "expected"), [
    (D("2419.99"), "缴存基数 2,419.99 元低于下限 2,420.00 元（当地最低工资标准）"),
    (D("17379.01"), "缴存基数 17,379.01 元高于上限 17,379.00 元（上年度职工月平均工资的规定倍数）"),
    (D("0"), "缴存基数 0.00 元低于下限 2,420.00 元（当地最低工资标准）"),
    (D("1E+40"), "缴存基数 10,000,000,000,000,000,000,000,000,000,000,000,000,000.00 元高于上限"),
    (D("8000.001"), "缴存基数 8000.001 最多保留两位小数（元、角、分）"),
    (D("NaN"), "缴存基数应为有效数值"),
])
def test_base_outside_band_is_refused(value, expected):
    with pytest.raises(RuleBroken) as excinfo:
        check_base(value, CENTS)
    assert message_of(excinfo, "base").startswith(expected)


@pytest.mark.parametrize("value", [8000.0, "8000", None, True])
def test_float_and_text_never_reach_a_money_formula(value):
    with pytest.raises(TypeError):
        check_base(value, CENTS)


@pytest.mark.parametrize(("kwargs", "rule"), [
    ({"ratio_min": D("0.12"), "ratio_max": D("0.05")}, "比例下限 ≤ 比例上限"),
    ({"ratio_min": D("0")}, "0 < 比例下限"),
    ({"ratio_max": D("1")}, "比例上限 < 100%"),
    ({"base_floor": D("20000")}, "基数下限 ≤ 基数上限"),
    ({"rounding_unit": D("0.1")}, "取整单位"),
    ({"rounding_mode": "ROUND_HALF_EVEN"}, "舍入方式"),
])
def test_inconsistent_parameters_are_the_operators_config_error(kwargs, rule):
    values = {"ratio_min": D("0.05"), "ratio_max": D("0.12"), "base_floor": D("2420"), "base_cap": CAP,
              **kwargs}
    with pytest.raises(ConfigError) as excinfo:
        ContributionRules(**values)
    assert rule in excinfo.value.message and excinfo.value.status == 500


# --- monthly amounts -----------------------------------------------------------------------------

def test_monthly_amount_at_12_percent_each_side():
    assert monthly_amount(D("8000.00"), D("0.12"), D("0.12"), CENTS) == MonthlyAmount(
        D("960.00"), D("960.00"), D("1920.00"))


def test_monthly_cap_example_rounds_each_side_to_whole_yuan():
    # HPF_RULES §1.2: 5,793 × 3 × 12% × 2 = 4,170. Each side 2,085.48 → 2,085; rounding the
    # total instead (4,170.96 → 4,171) would disagree with the published figure.
    amount = monthly_amount(base_cap(D("5793"), D("3")), D("0.12"), D("0.12"), YUAN)
    assert amount == MonthlyAmount(D("2085.00"), D("2085.00"), D("4170.00"))


@pytest.mark.parametrize(("base", "unit_share", "person_share", "total", "rounding"), [
    # 7,333.33 × 5% = 366.6665 and × 7% = 513.3331
    ("7333.33", "366.67", "513.33", "880.00", ("0.01", "HALF_UP")),
    ("7333.33", "366.67", "513.34", "880.01", ("0.01", "UP")),
    ("7333.33", "366.66", "513.33", "879.99", ("0.01", "DOWN")),
    ("7333.33", "367.00", "513.00", "880.00", ("1", "HALF_UP")),
    ("7333.33", "367.00", "514.00", "881.00", ("1", "UP")),
    ("7333.33", "366.00", "513.00", "879.00", ("1", "DOWN")),
    # 8,250 × 5% = 412.50 and × 7% = 577.50: both halves round up, total 991 (12% of it is 990)
    ("8250.00", "413.00", "578.00", "991.00", ("1", "HALF_UP")),
    ("8250.00", "412.00", "577.00", "989.00", ("1", "DOWN")),
    ("8250.00", "412.50", "577.50", "990.00", ("0.01", "HALF_UP")),
    # 6,666.67 × 5% = 333.3335 and × 7% = 466.6669: the sides round in opposite directions
    ("6666.67", "333.33", "466.67", "800.00", ("0.01", "HALF_UP")),
    ("6666.67", "333.00", "467.00", "800.00", ("1", "HALF_UP")),
    ("2420.00", "121.00", "169.40", "290.40", ("0.01", "HALF_UP")),   # exactly at the floor
])
def test_shares_rounded_separately_at_5_and_7_percent(base, unit_share, person_share, total, rounding):
    amount = monthly_amount(D(base), D("0.05"), D("0.07"), rules(*rounding))
    assert amount == MonthlyAmount(D(unit_share), D(person_share), D(total))
    assert str(amount.total) == total   # always shown with two decimals, even in whole yuan


def test_rounding_unit_written_with_decimals_still_means_whole_yuan():
    amount = monthly_amount(D("8250"), D("0.05"), D("0.07"), rules("1.00"))
    assert amount.unit == D("413.00")


@pytest.mark.parametrize(("args", "field"), [
    ((D("20000"), D("0.12"), D("0.12")), "base"),
    ((D("8000"), D("0.13"), D("0.12")), "unit_ratio"),
    ((D("8000"), D("0.12"), D("0.04")), "person_ratio"),
])
def test_monthly_amount_checks_its_inputs(args, field):
    with pytest.raises(RuleBroken) as excinfo:
        monthly_amount(*args, CENTS)
    assert excinfo.value.field == field


_ratios = st.integers(50, 120).map(lambda n: D(n) / 1000)   # 5.0% … 12.0% in steps of 0.1%


@given(base=st.integers(242000, 1737900).map(lambda n: D(n) / 100), unit_ratio=_ratios,
       person_ratio=_ratios, unit=st.sampled_from(["0.01", "1"]),
       mode=st.sampled_from(["HALF_UP", "UP", "DOWN"]))
def test_shares_always_sum_to_the_total(base, unit_ratio, person_ratio, unit, mode):
    amount = monthly_amount(base, unit_ratio, person_ratio, rules(unit, mode))
    assert amount.total == amount.unit + amount.person
    for share, ratio in ((amount.unit, unit_ratio), (amount.person, person_ratio)):
        exact = base * ratio
        assert abs(share - exact) < D(unit)
        assert share.as_tuple().exponent == -2
        if mode == "UP":
            assert share >= exact
        elif mode == "DOWN":
            assert share <= exact
        else:
            assert abs(share - exact) <= D(unit) / 2


# --- 缴至年月 ------------------------------------------------------------------------------------

def test_year_month_arithmetic():
    month = YearMonth.parse("202611")
    assert YearMonth.parse(" ２０２６１１ ") == month   # full-width digits typed with an IME
    assert (month.year, month.month, str(month)) == (2026, 11, "202611")
    assert str(month.next()) == "202612" and str(month.next().next()) == "202701"
    assert str(YearMonth(2027, 1).prev()) == "202612"
    assert str(YearMonth(5, 3)) == "000503"
    assert months_between(YearMonth(2026, 1), YearMonth(2026, 12)) == 11
    assert months_between(YearMonth(2026, 11), YearMonth(2025, 11)) == -12
    assert YearMonth.of(date(2026, 2, 28)) == YearMonth(2026, 2)
    assert YearMonth(2026, 9) < YearMonth(2026, 10) < YearMonth(2027, 1)


@pytest.mark.parametrize("text", ["", "2026-11", "202613", "202600", "20261", "2026111", "abcdef", None,
                                  "000005", "２０２６１３"])
def test_bad_year_month_text_is_refused(text):
    with pytest.raises(RuleBroken) as excinfo:
        YearMonth.parse(text, field="paid_up_to")
    assert "应为6位数字 YYYYMM" in message_of(excinfo, "paid_up_to")


def test_impossible_year_month_cannot_be_built():
    with pytest.raises(ValueError, match="no such month"):
        YearMonth(2026, 13)


@given(st.integers(1900, 9000), st.integers(1, 12), st.integers(-1200, 1200))
def test_month_steps_undo_and_count(year, month, steps):
    start = YearMonth(year, month)
    assert start.plus(steps).plus(-steps) == start
    assert months_between(start, start.plus(steps)) == steps
    assert YearMonth.parse(str(start)) == start


TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(("month", "paid_up_to"), [
    ("202611", "202610"),    # the next month, which is the current one
    ("202609", "202608"),    # a unit behind on its remittances pays the oldest month first
    ("202611", None),        # a new unit's first remittance
    ("202401", None),        # a unit registered late starts with its first month of wages
])
def test_remittance_month_accepted(month, paid_up_to):
    paid = YearMonth.parse(paid_up_to) if paid_up_to else None
    assert check_remittance_month(YearMonth.parse(month), paid, TODAY) == YearMonth.parse(month)


@pytest.mark.parametrize(("month", "paid_up_to", "expected"), [
    ("202610", "202610", "该月已缴存（缴至年月 202610）"),
    ("202605", "202610", "该月已缴存（缴至年月 202610）"),
    ("202612", "202611", "不能缴存未来月份"),
    ("202612", None, "不能缴存未来月份"),
    ("202701", "202610", "不能缴存未来月份"),
    ("202610", "202608", "须先缴存 202609（缴至年月的下一个月）"),
    ("202611", "202512", "须先缴存 202601（缴至年月的下一个月）"),
])
def test_remittance_month_refused(month, paid_up_to, expected):
    paid = YearMonth.parse(paid_up_to) if paid_up_to else None
    with pytest.raises(RuleBroken) as excinfo:
        check_remittance_month(YearMonth.parse(month), paid, TODAY)
    assert expected in message_of(excinfo, "month")


def test_current_month_is_allowed_on_its_first_and_last_day():
    for today in (date(2026, 11, 1), date(2026, 11, 30)):
        assert check_remittance_month(YearMonth(2026, 11), YearMonth(2026, 10), today)
    with pytest.raises(RuleBroken):
        check_remittance_month(YearMonth(2026, 12), YearMonth(2026, 11), date(2026, 11, 30))
