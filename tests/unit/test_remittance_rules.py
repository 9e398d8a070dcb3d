"""汇缴/补缴 rules: numbers, the months a 补缴 covers, its reason, the state checks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from hpf.domain import remittance as rules
from hpf.domain.contribution import RuleBroken, YearMonth
from hpf.domain.matching import parse_reference, reference_for


def test_a_remittance_number_is_hj_the_month_and_8_digits_and_the_bank_reference_carries_it():
    number = rules.number(YearMonth(2026, 6), 123)
    assert number == "HJ20260600000123" and len(number) == 16
    assert parse_reference(reference_for(number)) == number
    assert parse_reference(f"单位公积金 {number} 六月") == number
    assert rules.live_key(7, "202606") == "7:202606"


def test_back_payment_months_are_checked_against_opening_today_and_the_limit():
    today, opened = date(2026, 6, 15), date(2025, 3, 1)
    assert rules.check_back_months(YearMonth(2025, 3), YearMonth(2025, 5), today, opened) == 3
    assert rules.check_back_months(YearMonth(2026, 6), YearMonth(2026, 6), today, opened) == 1
    for first, last, field in ((YearMonth(2025, 2), YearMonth(2025, 3), "month"),   # before opening
                               (YearMonth(2025, 5), YearMonth(2025, 4), "month_to"),  # reversed range
                               (YearMonth(2026, 6), YearMonth(2026, 7), "month_to")):  # future
        with pytest.raises(RuleBroken) as caught:
            rules.check_back_months(first, last, today, opened)
        assert field in caught.value.details
    with pytest.raises(RuleBroken):
        rules.check_back_months(YearMonth(2000, 1), YearMonth(2010, 12), date(2011, 1, 1), date(1999, 1, 1))


def test_a_back_payment_needs_a_reason_and_amounts_must_be_positive():
    assert rules.check_reason("  漏缴 ") == "漏缴"
    for bad in (None, "", "   ", "长" * 101):
        with pytest.raises(RuleBroken) as caught:
            rules.check_reason(bad)
        assert "reason" in caught.value.details
    assert rules.check_positive(Decimal("0.01")) == Decimal("0.01")
    for bad in (Decimal("0"), Decimal("-5.00")):
        with pytest.raises(RuleBroken):
            rules.check_positive(bad)


def test_state_checks_name_the_state():
    rules.check_state(rules.CREDITED, (rules.CREDITED,), "入账")
    with pytest.raises(rules.StateConflict) as caught:
        rules.check_state(rules.POSTED, (rules.LISTED,), "作废")
    assert "已入账" in caught.value.message and caught.value.code == "remittance_state"
