"""到账匹配: pair the bank's credits (到账) with remittances (汇缴单) by the 附言 and the amount.

A unit writes ``reference_for(no)`` in the 附言 of its transfer. ``parse_reference`` reads a
remittance number back out of whatever the bank delivers (full-width characters, spaces,
lower case, the prefix dropped). ``match`` pairs credits with the remittances awaiting one:
only the exact amount, to the fen, matches; everything else comes back with a Chinese reason
for the teller. Pure: no I/O, the caller loads what is awaited and stores the outcome.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from hpf.domain.errors import ValidationFailed

# 汇缴单号: HJ + YYYYMM + an 8-digit counter (hpf.domain.remittance.number).
NUMBER_PREFIX = "HJ"
NUMBER_DIGITS = 14
REMITTANCE_NO = re.compile(rf"{NUMBER_PREFIX}\d{{{NUMBER_DIGITS}}}")
REFERENCE_LABEL = "汇缴单号"

# Searched in NFKC-normalised, upper-cased text. The strict form first: the number written
# solid, not glued to more letters or digits. Only if that finds nothing, the number with
# spaces or hyphens inside, refused when more digits follow (they could belong to it).
_SPACED_DIGITS = rf"((?:\d[\s-]*){{{NUMBER_DIGITS - 1}}}\d)(?![\s-]*\d)"
_SOLID = re.compile(rf"(?<![A-Z0-9])({NUMBER_PREFIX}\d{{{NUMBER_DIGITS}}})(?!\d)")
_SPACED = re.compile(rf"(?<![A-Z0-9]){NUMBER_PREFIX}[\s-]*{_SPACED_DIGITS}")
# The label with the bare digits (the HJ dropped): "汇缴单号:20261100000123".
_LABELLED = re.compile(rf"{REFERENCE_LABEL}[\s:#-]*{_SPACED_DIGITS}")
_SEPARATORS = re.compile(r"[\s-]")


class CreditLike(Protocol):
    """What matching reads from a bank credit (the adapter's BankCredit, or a stored row)."""

    @property
    def bank_ref(self) -> str: ...

    @property
    def amount(self) -> Decimal: ...

    @property
    def reference(self) -> str: ...


@dataclass(frozen=True)
class Matched:
    remittance_no: str
    bank_ref: str
    amount: Decimal


@dataclass(frozen=True)
class WrongAmount:
    remittance_no: str
    bank_ref: str
    expected: Decimal
    credited: Decimal
    difference: Decimal  # credited − expected: negative when the unit paid too little
    reason: str


@dataclass(frozen=True)
class Unknown:
    bank_ref: str
    amount: Decimal
    remittance_no: str | None  # the number the 附言 names, if any
    reason: str


@dataclass(frozen=True)
class Duplicate:
    remittance_no: str
    bank_ref: str
    amount: Decimal
    matched_bank_ref: str  # the credit that matched the remittance first
    reason: str


@dataclass(frozen=True)
class MatchResult:
    matched: tuple[Matched, ...]
    wrong_amount: tuple[WrongAmount, ...]
    unknown: tuple[Unknown, ...]
    duplicates: tuple[Duplicate, ...]
    outstanding: tuple[str, ...]  # remittances still without a credit, in the order given


def yuan(amount: Decimal) -> str:
    """12345.6 → "12,345.60" (how amounts appear in reasons)."""
    return f"{amount:,.2f}"


def reference_for(remittance_no: str) -> str:
    """The 附言 a unit writes on its transfer: "汇缴单号:HJ20261100000123"."""
    if not REMITTANCE_NO.fullmatch(remittance_no):
        raise ValueError(f"not a remittance number: {remittance_no!r}")
    return f"{REFERENCE_LABEL}:{remittance_no}"


def references_in(text: str | None) -> list[str]:
    """Every distinct remittance number a free-text 附言 names, in order of appearance."""
    if not text:
        return []
    plain = unicodedata.normalize("NFKC", text).upper()
    found = [m.group(1) for m in _SOLID.finditer(plain)]
    if not found:
        found = [NUMBER_PREFIX + _SEPARATORS.sub("", m.group(1)) for m in _SPACED.finditer(plain)]
    if not found:
        found = [NUMBER_PREFIX + _SEPARATORS.sub("", m.group(1)) for m in _LABELLED.finditer(plain)]
    return list(dict.fromkeys(found))


def parse_reference(text: str | None) -> str | None:
    """The one remittance number a 附言 names; None when it names none or several."""
    found = references_in(text)
    return found[0] if len(found) == 1 else None


def check_credit_amount(expected: Decimal, credited: Decimal) -> None:
    """A credit settles a remittance only for the exact amount due, to the fen (手工匹配)."""
    expected, credited = _money(expected), _money(credited)
    if credited <= 0:
        _refuse(f"到账金额必须大于零（{yuan(credited)} 元）")
    if expected <= 0:
        _refuse(f"汇缴金额必须大于零（{yuan(expected)} 元）")
    if credited != expected:
        _refuse(f"到账金额须与汇缴金额一致：{_mismatch(expected, credited)}")


def match(expected: Mapping[str, Decimal], credits: Sequence[CreditLike]) -> MatchResult:
    """自动匹配: credits in arrival order; the first exact credit for a remittance wins.

    ``expected`` maps each remittance awaiting a credit to its amount due. A credit naming
    such a remittance with another amount is not matched; a credit naming one already matched
    (here) is a duplicate; a credit naming none, several, or one not awaited is unknown.
    """
    due = {no: _money(amount) for no, amount in expected.items()}
    bad = [no for no, amount in due.items() if amount <= 0]
    if bad:
        raise ValueError(f"remittances with a non-positive amount due: {bad[:5]}")
    matched: dict[str, Matched] = {}
    wrong: list[WrongAmount] = []
    unknown: list[Unknown] = []
    duplicates: list[Duplicate] = []
    for credit in credits:
        amount = _money(credit.amount)
        found = references_in(credit.reference)
        no = found[0] if len(found) == 1 else None
        if amount <= 0:
            reason = f"到账金额 {yuan(amount)} 元不是正数，不能匹配"
            unknown.append(Unknown(credit.bank_ref, amount, no, reason))
        elif no is None:
            unknown.append(Unknown(credit.bank_ref, amount, None, _unreadable(found)))
        elif no in matched:
            first = matched[no].bank_ref
            reason = f"汇缴单 {no} 已由到账流水 {first} 匹配，本笔为重复到账"
            duplicates.append(Duplicate(no, credit.bank_ref, amount, first, reason))
        elif no not in due:
            reason = f"附言中的汇缴单号 {no} 不是待到账的汇缴单（可能不存在、已到账或已作废）"
            unknown.append(Unknown(credit.bank_ref, amount, no, reason))
        elif amount != due[no]:
            reason = _mismatch(due[no], amount)
            wrong.append(WrongAmount(no, credit.bank_ref, due[no], amount, amount - due[no], reason))
        else:
            matched[no] = Matched(no, credit.bank_ref, amount)
    outstanding = tuple(no for no in due if no not in matched)
    return MatchResult(tuple(matched.values()), tuple(wrong), tuple(unknown), tuple(duplicates), outstanding)


def _unreadable(found: list[str]) -> str:
    if found:
        return f"附言含多个汇缴单号（{'、'.join(found)}），无法自动匹配"
    return "附言中未找到汇缴单号"


def _mismatch(expected: Decimal, credited: Decimal) -> str:
    difference = credited - expected
    return (
        f"到账金额 {yuan(credited)} 元与汇缴金额 {yuan(expected)} 元不符（差额 {difference:+,.2f} 元）"
    )


def _money(value: Decimal | int) -> Decimal:
    # A float has no place in a money path (ARCHITECTURE §4); an int is a whole amount.
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"money must be Decimal, not {type(value).__name__}")
    return Decimal(value)


def _refuse(message: str) -> None:
    raise ValidationFailed(message, code="credit_amount_mismatch", details={"amount": [message]})
