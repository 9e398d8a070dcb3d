"""Dated parameters: which value holds on a date; what a new value may be."""

from datetime import date
from decimal import Decimal

import pytest

from hpf.domain.errors import ValidationFailed
from hpf.domain.params import (
    DatedValue,
    ParamSpec,
    check_new_value,
    parse_value,
    timeline,
    value_in_force,
)

RATE = ParamSpec("interest.rate.current_year", "当年归集部分存款年利率", "decimal",
                 min_value="0", max_value="0.2")
HISTORY = [DatedValue("0.0035", date(2015, 10, 24), "活期"),
           DatedValue("0.015", date(2016, 2, 21), "银发〔2016〕43号")]


@pytest.mark.parametrize("on, expected", [
    (date(2015, 10, 23), None),          # before the first value: nothing in force
    (date(2015, 10, 24), "0.0035"),      # a value holds from its first day
    (date(2016, 2, 20), "0.0035"),       # ... to the day before the next one
    (date(2016, 2, 21), "0.015"),
    (date(2026, 11, 22), "0.015"),
])
def test_rate_in_force_on_a_date(on, expected):
    found = value_in_force(HISTORY, on)
    assert (found.value if found else None) == expected


def test_timeline_derives_end_dates():
    periods = timeline(list(reversed(HISTORY)))
    assert [(p.value, p.effective_from, p.effective_to) for p in periods] == [
        ("0.0035", date(2015, 10, 24), date(2016, 2, 20)),
        ("0.015", date(2016, 2, 21), None),
    ]


def test_typed_values():
    assert parse_value(RATE, " 0.0150 ") == Decimal("0.0150")
    assert parse_value(ParamSpec("d", "天数", "integer"), "360") == 360
    assert parse_value(ParamSpec("x", "日期", "date"), "2026-06-30") == date(2026, 6, 30)


@pytest.mark.parametrize("spec, raw, message", [
    (RATE, "1.5%", "应为数值"),
    (RATE, "NaN", "应为数值"),
    (RATE, "0.25", "0 至 0.2 之间"),
    (RATE, "-0.01", "0 至 0.2 之间"),
    (ParamSpec("d", "计息年天数", "integer", min_value="360", max_value="366"), "365.5", "应为整数"),
    (ParamSpec("m", "舍入方式", "text", choices=("HALF_UP", "UP", "DOWN")), "BANKER", "HALF_UP"),
    (ParamSpec("x", "日期", "date"), "2026/06/30", "日期"),
])
def test_bad_values_name_the_rule(spec, raw, message):
    with pytest.raises(ValidationFailed) as err:
        parse_value(spec, raw)
    assert message in err.value.details["value"][0]


def test_new_value_from_today_is_accepted_and_normalised():
    text = check_new_value(RATE, "0.0155", date(2026, 11, 22), date(2026, 11, 22), HISTORY)
    assert text == "0.0155"


def test_no_retroactive_values():
    with pytest.raises(ValidationFailed) as err:
        check_new_value(RATE, "0.02", date(2026, 11, 21), date(2026, 11, 22), HISTORY)
    assert "不能早于" in err.value.details["effective_from"][0]


def test_one_value_per_date():
    future = [*HISTORY, DatedValue("0.016", date(2027, 1, 1))]
    with pytest.raises(ValidationFailed) as err:
        check_new_value(RATE, "0.017", date(2027, 1, 1), date(2026, 11, 22), future)
    assert "已有取值" in err.value.details["effective_from"][0]
