"""会计核算: chart, balanced vouchers, posting templates, reversal, trial balance, book checks."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpf.domain.errors import ValidationFailed
from hpf.domain.ledger import (
    CHART,
    DayClosed,
    LedgerAggregates,
    Line,
    Share,
    SubjectTotal,
    UnbalancedVoucher,
    VoucherDraft,
    VoucherTotal,
    annual_interest,
    back_payment,
    check_balanced,
    check_ledger,
    check_open,
    check_trial_balance,
    closing_withdrawal,
    is_leaf,
    partial_withdrawal,
    remittance,
    reversal_of,
    subject,
    transfer_in,
    transfer_out,
    trial_balance,
)

D = Decimal
DAY = date(2026, 11, 20)


def entries(draft):
    return [(line.subject, line.debit, line.credit, line.account_id) for line in draft.lines]


def voucher(*lines, summary="测试凭证"):
    return VoucherDraft(DAY, "99", summary, tuple(lines))


# --- chart ---------------------------------------------------------------------------------------

def test_chart_has_the_subjects_of_the_accounting_rules():
    codes = {s.code for s in CHART}
    assert {"101", "102", "111", "119", "121", "122", "124", "201", "211", "214", "21402", "219",
            "301", "311", "321", "3210102", "3210103", "3210104"} <= codes
    assert {f"4010{n}" for n in range(1, 6)} | {f"4110{n}" for n in range(1, 5)} <= codes
    assert all(s.parent is None or s.parent in codes for s in CHART)
    assert all(s.normal_side in ("debit", "credit") for s in CHART)
    assert all(s.category in ("资产", "负债", "净资产", "收入", "支出") for s in CHART)


def test_subjects_know_their_side_and_parent():
    fund = subject("201")
    assert (fund.name, fund.category, fund.normal_side) == ("住房公积金", "负债", "credit")
    assert subject("41101").parent == "411" and subject("41101").normal_side == "debit"
    assert is_leaf("41101") and not is_leaf("411") and is_leaf("101") and not is_leaf("999")
    with pytest.raises(ValidationFailed, match="未知会计科目 999"):
        subject("999")


# --- balanced vouchers ---------------------------------------------------------------------------

def test_an_unbalanced_voucher_names_both_sides():
    draft = voucher(Line("101", debit=D("100.00")), Line("201", credit=D("99.99")))
    with pytest.raises(UnbalancedVoucher) as err:
        check_balanced(draft)
    assert err.value.message == "借贷不平：借方 100.00，贷方 99.99"
    assert err.value.details == {"difference": "0.01"}


@pytest.mark.parametrize("line, message", [
    (Line("201", debit=D("1.00"), credit=D("1.00")), "只能在借方或贷方之一"),
    (Line("201"), "只能在借方或贷方之一"),
    (Line("201", credit=D("1.005")), "不超过两位小数"),
    (Line("201", credit=D("-1.00")), "非负"),
    (Line("201", credit=1.0), "Decimal"),
    (Line("201", credit=D("NaN")), "Decimal"),
    (Line("411", credit=D("1.00")), "有下级科目"),
    (Line("999", credit=D("1.00")), "不存在"),
    (Line("101", credit=D("1.00"), account_id=7), "不登记个人账户明细"),
])
def test_bad_lines_are_refused_with_the_line_named(line, message):
    with pytest.raises(ValidationFailed) as err:
        check_balanced(voucher(Line("101", debit=D("1.00")), line))
    assert message in err.value.details["lines[2]"][0]


def test_a_voucher_needs_two_lines_and_a_summary():
    with pytest.raises(ValidationFailed) as err:
        check_balanced(voucher(Line("101", debit=D("1.00")), summary=" "))
    assert set(err.value.details) == {"lines", "summary"}


def test_whole_yuan_amounts_are_money_too():
    assert check_balanced(voucher(Line("101", debit=D("100")), Line("201", credit=D("100.00"))))


# --- posting templates ---------------------------------------------------------------------------

def test_remittance_credits_each_person_in_the_sub_ledger():
    draft = remittance(DAY, "2026年11月汇缴", [Share(11, D("1200.00")), Share(12, D("850.50"))])
    assert (draft.business_type, draft.business_date) == ("01", DAY)
    assert entries(draft) == [("101", D("2050.50"), 0, None), ("201", 0, D("1200.00"), 11),
                              ("201", 0, D("850.50"), 12)]


def test_a_large_remittance_may_post_one_aggregated_201_line():
    draft = remittance(DAY, "2026年11月汇缴（明细见个人明细账）", [Share(None, D("2050.50"))])
    assert entries(draft) == [("101", D("2050.50"), 0, None), ("201", 0, D("2050.50"), None)]


def test_back_payment_is_a_remittance_of_type_02():
    assert back_payment(DAY, "补缴2026年9月", [Share(11, D("1200.00"))]).business_type == "02"


def test_partial_withdrawal_settles_no_interest():
    draft = partial_withdrawal(DAY, "购房提取", 11, D("30000.00"))
    assert (draft.business_type, entries(draft)) == (
        "11", [("201", D("30000.00"), 0, 11), ("101", 0, D("30000.00"), None)])


def test_closing_withdrawal_pays_principal_and_closure_interest():
    # 100,000 closed on 2025-10-01: 92 days at 1.50% = 383.33 (see test_interest).
    draft = closing_withdrawal(DAY, "退休销户提取", 11, D("100000.00"), D("383.33"))
    assert (draft.business_type, entries(draft)) == ("12", [
        ("201", D("100000.00"), 0, 11), ("41101", D("383.33"), 0, None), ("101", 0, D("100383.33"), None)])
    accrued = closing_withdrawal(DAY, "退休销户提取", 11, D("100000.00"), D("383.33"), interest_from="211")
    assert entries(accrued)[1] == ("211", D("383.33"), 0, None)
    no_interest = closing_withdrawal(DAY, "退休销户提取", 11, D("100.00"), D("0.00"))
    assert len(no_interest.lines) == 2
    emptied = closing_withdrawal(DAY, "退休销户提取", 11, D("0.00"), D("12.34"))
    assert entries(emptied) == [("41101", D("12.34"), 0, None), ("101", 0, D("12.34"), None)]
    with pytest.raises(ValidationFailed):
        closing_withdrawal(DAY, "退休销户提取", 11, D("100.00"), D("1.00"), interest_from="101")


def test_annual_interest_credits_each_account_and_skips_zero():
    shares = [Share(11, D("1520.83")), Share(12, D("1368.33")), Share(13, D("0.00"))]
    draft = annual_interest(date(2026, 6, 30), "2025-2026年度结息", shares)
    assert (draft.business_type, entries(draft)) == ("09", [
        ("41101", D("2889.16"), 0, None), ("201", 0, D("1520.83"), 11), ("201", 0, D("1368.33"), 12)])


def test_transfers_out_and_in():
    out = transfer_out(DAY, "异地转出", 11, D("5000.00"), D("12.50"))
    assert (out.business_type, entries(out)) == ("07", [
        ("201", D("5000.00"), 0, 11), ("41101", D("12.50"), 0, None), ("101", 0, D("5012.50"), None)])
    into = transfer_in(DAY, "异地转入", 12, D("5012.50"))
    assert (into.business_type, entries(into)) == ("08", [
        ("101", D("5012.50"), 0, None), ("201", 0, D("5012.50"), 12)])


def test_a_template_refuses_what_cannot_balance():
    with pytest.raises(ValidationFailed):
        annual_interest(DAY, "结息", [Share(13, D("0.00"))])  # nothing to post
    with pytest.raises(ValidationFailed):
        partial_withdrawal(DAY, "提取", 11, D("0.001"))


# --- reversal, trial balance, closed days --------------------------------------------------------

def test_reversal_swaps_sides_and_prefixes_the_summary():
    original = partial_withdrawal(DAY, "购房提取", 11, D("30000.00"))
    red = reversal_of(original, on=date(2026, 11, 21))
    assert (red.summary, red.business_date, red.business_type) == ("冲销：购房提取", date(2026, 11, 21), "11")
    assert entries(red) == [("201", 0, D("30000.00"), 11), ("101", D("30000.00"), 0, None)]
    assert reversal_of(original).business_date == DAY
    assert len(reversal_of(voucher(Line("101", debit=D("1")), Line("201", credit=D("1")),
                                   summary="长" * 200)).summary) == 200


def test_trial_balance_rolls_up_parents_and_balances():
    lines = [*remittance(DAY, "汇缴", [Share(11, D("1000.00"))]).lines,
             *annual_interest(DAY, "结息", [Share(11, D("15.00"))]).lines,
             SubjectTotal("41102", D("3.00"), D("0.00")), SubjectTotal("101", D("0.00"), D("3.00"))]
    rows = {r.code: r for r in trial_balance(lines)}
    assert (rows["201"].credit, rows["201"].balance) == (D("1015.00"), D("1015.00"))
    cash = rows["101"]
    assert (cash.debit, cash.credit, cash.balance) == (D("1000.00"), D("3.00"), D("997.00"))
    assert (rows["411"].balance, rows["411"].leaf, rows["41101"].leaf) == (D("18.00"), False, True)
    assert check_trial_balance(list(rows.values())) == []
    lopsided = trial_balance([SubjectTotal("101", D("5.00"), D("0.00"))])
    assert [f.kind for f in check_trial_balance(lopsided)] == ["trial_balance"]


def test_a_closed_day_refuses_postings():
    with pytest.raises(DayClosed) as err:
        check_open(DAY, closed_through=DAY)
    assert (err.value.message, err.value.status) == ("业务日 2026-11-20 已日结，不能记账", 409)
    with pytest.raises(DayClosed):
        check_open(date(2026, 11, 19), closed_through=DAY)
    check_open(date(2026, 11, 21), closed_through=DAY)
    check_open(DAY, closed_through=None)


# --- invariants of `hpf ledger check` ------------------------------------------------------------

def healthy(**changes):
    base = {
        "voucher_totals": [VoucherTotal("JZ1", D("2050.50"), D("2050.50"))],
        "subject_totals": [SubjectTotal("101", D("2050.50"), D("0")),
                           SubjectTotal("201", D("0"), D("2050.50"))],
        "individual_total": D("2050.50"),
        "unit_balances": {1: D("2050.50")},
        "unit_people": {1: D("2050.50")},
    }
    return LedgerAggregates(**{**base, **changes})


def test_healthy_books_have_no_findings():
    assert check_ledger(healthy()) == []


def test_each_broken_invariant_is_reported_not_raised():
    findings = check_ledger(healthy(
        voucher_totals=[VoucherTotal("JZ1", D("10.00"), D("9.99")), VoucherTotal("JZ2", D("1"), D("1"))],
        individual_total=D("2050.00"),
        unit_balances={1: D("2050.50"), 2: D("10.00")},
    ))
    by_kind = {f.kind: f for f in findings}
    assert set(by_kind) == {"voucher_unbalanced", "control_account", "unit_sub_ledger"}
    assert by_kind["voucher_unbalanced"].items == (VoucherTotal("JZ1", D("10.00"), D("9.99")),)
    assert "差额 0.50" in by_kind["control_account"].message
    assert by_kind["unit_sub_ledger"].items == ((2, D("10.00"), D("0.00")),)


# --- properties ----------------------------------------------------------------------------------

LEAVES = sorted(s.code for s in CHART if is_leaf(s.code))
money = st.decimals(min_value=D("0.01"), max_value=D("99999999.99"), places=2)
pairs = st.lists(st.tuples(st.sampled_from(LEAVES), st.sampled_from(LEAVES), money), min_size=1, max_size=8)


@given(pairs)
def test_a_reversal_is_balanced_and_nets_every_subject_to_zero(legs):
    lines = [line for debit, credit, amount in legs
             for line in (Line(debit, debit=amount), Line(credit, credit=amount))]
    original = check_balanced(voucher(*lines))
    red = reversal_of(original)
    assert check_balanced(red) == red
    assert all(line.debit >= 0 and line.credit >= 0 for line in red.lines)
    rows = trial_balance([*original.lines, *red.lines])
    assert all(r.balance == 0 and r.debit == r.credit for r in rows)


@given(st.lists(st.tuples(st.integers(1, 10**6), money), min_size=1, max_size=20))
def test_a_remittance_always_balances_to_its_people(people):
    draft = remittance(DAY, "汇缴", [Share(account, amount) for account, amount in people])
    fund = next(r for r in trial_balance(draft.lines) if r.code == "201")
    assert fund.balance == sum(amount for _, amount in people)
