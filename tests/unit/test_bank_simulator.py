"""模拟银行: delayed and wrong-amount credits, the cursor, serials, bulk payments."""

import threading
import time
from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest

from hpf.domain.errors import ConfigError, ValidationFailed
from hpf_adapters.bank import BankAdapter, BankCredit, SimulatedBank, create

JUNE_5 = date(2025, 6, 5)


def bank(day: date = JUNE_5, journal: str | None = None) -> SimulatedBank:
    return SimulatedBank(start=day, journal=journal)


def pay(sim: SimulatedBank, amount: str = "100.00", **options) -> BankCredit:
    return sim.pay("6227001234567800", "示范单位", D(amount), "汇缴单号:HJ20250600000001", JUNE_5, **options)


def test_a_payment_is_credited_on_its_value_date():
    sim = bank()
    paid = pay(sim)
    found, _ = sim.credits_since(None)
    assert found == [paid]
    assert (paid.amount, paid.value_date) == (D("100.00"), JUNE_5)
    assert paid.reference == "汇缴单号:HJ20250600000001"
    assert paid.received_at == datetime(2025, 6, 5, 1, 0, tzinfo=UTC)  # 09:00 in Beijing


def test_a_delayed_credit_is_invisible_before_its_day_and_visible_after():
    sim = bank()
    delayed = pay(sim, delay_days=2)
    assert delayed.value_date == date(2025, 6, 7)
    assert sim.credits_since(None)[0] == []
    sim.advance_to(date(2025, 6, 6))
    assert sim.credits_since(None)[0] == []
    sim.advance_to(date(2025, 6, 8))
    assert sim.credits_since(None)[0] == [delayed]


def test_the_simulated_today_can_follow_the_application_clock():
    clock = {"today": JUNE_5}
    sim = create("simulator", today=lambda: clock["today"])
    pay(sim, delay_days=1)
    assert sim.credits_since(None)[0] == []
    clock["today"] = date(2025, 6, 6)
    assert len(sim.credits_since(None)[0]) == 1


def test_the_cursor_returns_each_credit_once_even_a_delayed_one():
    sim = bank()
    first = pay(sim)
    late = pay(sim, delay_days=1)  # paid before the next one, credited after it
    found, cursor = sim.credits_since(None)
    assert found == [first]
    assert sim.credits_since(cursor) == ([], cursor)
    sim.advance_to(date(2025, 6, 6))
    today = sim.pay("6227001234567801", "另一单位", D("50.00"), "HJ20250600000002", date(2025, 6, 6))
    found, cursor = sim.credits_since(cursor)
    assert found == [late, today]
    assert sim.credits_since(cursor)[0] == []
    assert len(sim.credits_since(None)[0]) == 3  # from the beginning again: everything


def test_a_cursor_from_elsewhere_is_refused():
    sim = bank()
    for cursor in ("abc", "-1", "5"):
        with pytest.raises(ValueError):
            sim.credits_since(cursor)


def test_the_clock_does_not_go_back():
    with pytest.raises(ValueError):
        bank().advance_to(date(2025, 6, 4))


@pytest.mark.parametrize(
    ("error", "credited"), [(D("-0.01"), D("99.99")), (D("12.30"), D("112.30")), (0, D("100"))]
)
def test_a_wrong_amount_credits_what_was_not_ordered(error, credited):
    sim = bank()
    pay(sim, amount_error=error)
    assert sim.credits_since(None)[0][0].amount == credited


@pytest.mark.parametrize(
    ("amount", "options", "field"),
    [
        ("0.00", {}, "amount"),
        ("100.00", {"amount_error": D("-100.00")}, "amount_error"),
        ("100.001", {}, "amount"),
        ("100.00", {"delay_days": -1}, "delay_days"),
        ("100.00", {"amount_error": 0.5}, "amount_error"),
    ],
)
def test_impossible_payments_are_refused(amount, options, field):
    sim = bank()
    with pytest.raises(ValidationFailed) as refused:
        pay(sim, amount, **options)
    assert list(refused.value.details) == [field]
    assert sim.pending == 0


def test_serials_carry_the_day_a_bank_token_and_a_counter_and_never_repeat_across_banks():
    sim = bank()
    refs = [pay(sim).bank_ref, pay(sim, delay_days=1).bank_ref, pay(sim).bank_ref]
    token = refs[0][11:15]
    assert refs == [f"SIM20250605{token}0000001", f"SIM20250606{token}0000002", f"SIM20250605{token}0000003"]
    # another bank (another worker, or the server restarted) never reuses a serial
    assert pay(bank()).bank_ref != refs[0]


def test_banks_sharing_a_journal_see_each_others_transfers(tmp_path):
    journal = str(tmp_path / "bank.jsonl")
    first, second = bank(journal=journal), bank(journal=journal)
    made = pay(first)
    found, _ = second.credits_since(None)
    assert [c.bank_ref for c in found] == [made.bank_ref] and made.bank_ref.startswith("SIM20250605J")
    pay(second, delay_days=0)
    assert len(first.credits_since(None)[0]) == 2
    again = bank(journal=journal)  # a restart reads the same file
    refs = [c.bank_ref for c in first.credits_since(None)[0]]
    assert [c.bank_ref for c in again.credits_since(None)[0]] == refs


def test_payments_from_many_threads_get_distinct_serials():
    sim = bank()

    def burst():
        for _ in range(500):
            pay(sim)

    threads = [threading.Thread(target=burst) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refs = [c.bank_ref for c in sim.credits_since(None)[0]]
    assert len(refs) == len(set(refs)) == 4000


def test_pay_many_books_ten_thousand_in_well_under_a_second():
    rows = [
        (f"62270012{i:08d}", f"单位{i}", D("1234.56"), f"汇缴单号:HJ202506{i:08d}", JUNE_5)
        for i in range(10_000)
    ]
    sim = bank()
    started = time.perf_counter()
    booked = sim.pay_many(rows)
    found, _ = sim.credits_since(None)
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5, elapsed
    assert found == booked and len({c.bank_ref for c in found}) == 10_000


def test_pay_many_takes_delay_and_error_per_row():
    sim = bank()
    sim.pay_many(
        [("A", "甲", D("10.00"), "x", JUNE_5, 1), ("B", "乙", D("10.00"), "y", JUNE_5, 0, D("-1.00"))]
    )
    [now] = sim.credits_since(None)[0]
    assert (now.payer_account, now.amount) == ("B", D("9.00"))
    assert sim.pending == 1


def test_the_factory_builds_the_simulator_and_refuses_unknown_kinds():
    sim = create(start=JUNE_5)
    assert isinstance(sim, BankAdapter) and sim.name == "simulator"
    with pytest.raises(ConfigError):
        create("icbc-file")
