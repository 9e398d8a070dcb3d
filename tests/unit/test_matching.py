"""到账匹配: the 附言 a unit writes, how it is read back, and which credits settle a remittance."""

from dataclasses import dataclass
from decimal import Decimal as D

import pytest

from hpf.domain.errors import ValidationFailed
from hpf.domain.matching import (
    check_credit_amount,
    match,
    parse_reference,
    reference_for,
    references_in,
)

JUNE = "HJ20250600000001"
JULY = "HJ20250700000002"


@dataclass(frozen=True)
class Credit:
    bank_ref: str
    amount: D
    reference: str


def test_the_reference_a_unit_writes_reads_back_as_its_remittance_number():
    assert reference_for(JUNE) == "汇缴单号:HJ20250600000001"
    assert parse_reference(reference_for(JUNE)) == JUNE


def test_reference_for_refuses_what_is_not_a_remittance_number():
    with pytest.raises(ValueError):
        reference_for("HJ2025060000001")


@pytest.mark.parametrize(
    "text",
    [
        "汇缴单号：ＨＪ２０２５０６０００００００１",  # full-width letters, digits and colon
        "hj20250600000001",
        "六月公积金 HJ 2025 0600 0000 01 某某公司",
        "HJ-20250600-000001",
        "汇缴单号 20250600000001",  # the HJ dropped after the label
        "HJ20250600000001 2866.74",  # the amount written after the number
        "HJ20250600000001 HJ20250600000001",  # the same number twice
    ],
)
def test_parse_reference_tolerates_how_people_type(text):
    assert parse_reference(text) == JUNE


@pytest.mark.parametrize(
    "text",
    [None, "", "六月公积金", "HJ2025060000000", "HJ202506000000012", "XHJ20250600000001", "20250600000001"],
)
def test_parse_reference_finds_nothing_in_text_without_a_whole_number(text):
    assert parse_reference(text) is None


def test_a_reference_naming_two_remittances_is_ambiguous():
    text = f"{JUNE}、{JULY}"
    assert references_in(text) == [JUNE, JULY]
    assert parse_reference(text) is None


def test_a_credit_for_the_exact_amount_matches():
    result = match({JUNE: D("2866.74")}, [Credit("B1", D("2866.74"), reference_for(JUNE))])
    assert [(m.remittance_no, m.bank_ref, m.amount) for m in result.matched] == [(JUNE, "B1", D("2866.74"))]
    assert not (result.wrong_amount or result.unknown or result.duplicates or result.outstanding)


def test_a_full_width_reference_matches():
    credit = Credit("B1", D("100.00"), "汇缴单号：ＨＪ２０２５０６０００００００１")
    assert [m.remittance_no for m in match({JUNE: D("100")}, [credit]).matched] == [JUNE]


def test_a_credit_short_by_a_fen_is_not_matched():
    result = match({JUNE: D("12345.67")}, [Credit("B1", D("12345.60"), JUNE)])
    assert result.matched == () and result.outstanding == (JUNE,)
    [wrong] = result.wrong_amount
    assert (wrong.expected, wrong.credited, wrong.difference) == (D("12345.67"), D("12345.60"), D("-0.07"))
    assert wrong.reason == "到账金额 12,345.60 元与汇缴金额 12,345.67 元不符（差额 -0.07 元）"


def test_a_credit_over_the_amount_due_is_not_matched_either():
    [wrong] = match({JUNE: D("100.00")}, [Credit("B1", D("100.50"), JUNE)]).wrong_amount
    assert wrong.difference == D("0.50")
    assert wrong.reason == "到账金额 100.50 元与汇缴金额 100.00 元不符（差额 +0.50 元）"


def test_the_exact_credit_after_a_wrong_one_matches():
    credits = [Credit("B1", D("99.99"), JUNE), Credit("B2", D("100.00"), JUNE)]
    result = match({JUNE: D("100.00")}, credits)
    assert [m.bank_ref for m in result.matched] == ["B2"]
    assert [w.bank_ref for w in result.wrong_amount] == ["B1"]


def test_a_second_credit_for_a_matched_remittance_is_a_duplicate():
    credits = [
        Credit("B1", D("100.00"), JUNE),
        Credit("B2", D("100.00"), JUNE),
        Credit("B3", D("1.00"), JUNE),  # a wrong amount after the match is still a duplicate
    ]
    result = match({JUNE: D("100.00")}, credits)
    assert [m.bank_ref for m in result.matched] == ["B1"]
    assert [(d.bank_ref, d.matched_bank_ref) for d in result.duplicates] == [("B2", "B1"), ("B3", "B1")]
    assert "重复到账" in result.duplicates[0].reason and "B1" in result.duplicates[0].reason


def test_credits_naming_no_awaited_remittance_are_unknown():
    credits = [
        Credit("B1", D("100.00"), "六月公积金"),
        Credit("B2", D("100.00"), JULY),
        Credit("B3", D("100.00"), f"{JUNE} {JULY}"),
    ]
    result = match({JUNE: D("100.00")}, credits)
    assert result.matched == () and result.outstanding == (JUNE,)
    reasons = {u.bank_ref: (u.remittance_no, u.reason) for u in result.unknown}
    assert reasons["B1"] == (None, "附言中未找到汇缴单号")
    assert reasons["B2"][0] == JULY and "不是待到账的汇缴单" in reasons["B2"][1]
    assert reasons["B3"][0] is None and "多个汇缴单号" in reasons["B3"][1]


@pytest.mark.parametrize("amount", [D("0.00"), D("-100.00")])
def test_a_credit_of_zero_or_less_never_matches(amount):
    result = match({JUNE: D("100.00")}, [Credit("B1", amount, JUNE)])
    assert result.matched == () and result.wrong_amount == ()
    assert "不是正数" in result.unknown[0].reason


@pytest.mark.parametrize("due", [D("0"), D("-1.00")])
def test_a_remittance_due_zero_or_less_is_a_caller_error(due):
    with pytest.raises(ValueError):
        match({JUNE: due}, [])


def test_money_must_be_decimal():
    with pytest.raises(TypeError):
        match({JUNE: 100.0}, [])
    with pytest.raises(TypeError):
        check_credit_amount(D("100.00"), 100.0)


def test_matching_by_hand_needs_the_exact_amount():
    check_credit_amount(D("100.00"), D("100"))
    with pytest.raises(ValidationFailed) as refused:
        check_credit_amount(D("12345.67"), D("12345.60"))
    assert refused.value.status == 422 and refused.value.code == "credit_amount_mismatch"
    assert list(refused.value.details) == ["amount"]
    assert "须与汇缴金额一致" in refused.value.message and "差额 -0.07 元" in refused.value.message


@pytest.mark.parametrize(
    ("due", "credited"), [(D("100.00"), D("0")), (D("100.00"), D("-5")), (D("0"), D("0"))]
)
def test_matching_by_hand_refuses_amounts_of_zero_or_less(due, credited):
    with pytest.raises(ValidationFailed) as refused:
        check_credit_amount(due, credited)
    assert "必须大于零" in refused.value.details["amount"][0]
