"""缴存清册: check an employer's uploaded monthly deposit list, row by row.

An import posts all or nothing: ``validate`` checks every row and returns every problem it
finds (never only the first), so the employer fixes the whole file in one round. Amounts are
recomputed with the same rule as a generated list (``contribution.monthly_amount``): a
self-made list may not pay a cent more or less than the roster-based one would.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from hpf.domain.accounts import PERSON_RULES, PERSON_STATES
from hpf.domain.contribution import (
    CENT,
    ContributionRules,
    RuleBroken,
    check_base,
    check_ratio,
    monthly_amount,
)
from hpf.domain.errors import ValidationFailed

ACCOUNT, NAME, ID_NO = "个人账号", "姓名", "证件号码"
BASE, UNIT_AMOUNT, PERSON_AMOUNT, TOTAL = "缴存基数", "单位月缴存额", "个人月缴存额", "月缴存额合计"
# 证件号码 is in the template and checked when the caller gives the roster's numbers, but a
# unit's own list may leave it out: the account number and name identify the person.
REQUIRED = (ACCOUNT, NAME, BASE, UNIT_AMOUNT, PERSON_AMOUNT)
COLUMNS = (ACCOUNT, NAME, ID_NO, BASE, UNIT_AMOUNT, PERSON_AMOUNT, TOTAL)  # the template's order
WHOLE_FILE = 0  # RowError.row for a problem of the file as a whole (no data rows)

# 汇缴 is allowed only from the states the account table says (accounts.PERSON_RULES): today
# only 01 正常. 冻结 (06) holds the balance for a court or the centre; the table does not let a
# frozen account take 汇缴, so the list refuses it and staff unfreeze (or the unit seals) first.
# Reading the table rather than copying it keeps the console, posting and import in step.
REMIT_STATES = frozenset(PERSON_RULES["remit"])

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")  # 5,000.00 as typed or exported
_MAX_NUMBER_TEXT = 30  # longer than any amount; keeps absurd input away from Decimal arithmetic
_NAME_DOTS = str.maketrans({"•": "·", "・": "·", "‧": "·", "∙": "·", "．": "·"})


@dataclass(frozen=True)
class RawRow:
    """One data row as read from the file: its row number as the spreadsheet shows it and the
    cell text keyed by the canonical column name (missing cells are "")."""

    row: int
    values: dict[str, str] = field(default_factory=dict)

    def get(self, column: str) -> str:
        return self.values.get(column) or ""


@dataclass(frozen=True)
class RowError:
    row: int
    column: str   # the Chinese header name, "" for the file as a whole
    reason: str
    value: str = ""


@dataclass(frozen=True)
class RosterEntry:
    """One of the unit's people as the centre has them; ``id_no`` is checked when known."""

    account_no: str
    name: str
    status: str
    unit_id: str
    id_no: str = ""


@dataclass(frozen=True)
class ListLine:
    row: int
    account_no: str
    name: str
    base: Decimal
    unit_amount: Decimal
    person_amount: Decimal

    @property
    def total(self) -> Decimal:
        return self.unit_amount + self.person_amount


class ListSummary(NamedTuple):
    count: int
    unit_total: Decimal
    person_total: Decimal
    total: Decimal


class ListRejected(ValidationFailed):
    """The list cannot be posted; ``errors`` is the row-by-row report offered for download."""

    code = "remittance_list_rejected"

    def __init__(self, errors: Sequence[RowError], message: str | None = None) -> None:
        self.errors = list(errors)
        shown = [{"row": e.row, "column": e.column, "reason": e.reason, "value": e.value}
                 for e in self.errors[:100]]  # the full list goes into the downloadable report
        super().__init__(message or f"缴存清册有 {len(self.errors)} 处错误，未入账，"
                                    "请下载错误报告修改后重新上传",
                         details={"rows": shown, "count": len(self.errors)})


def validate(rows: Sequence[RawRow], roster: Mapping[str, RosterEntry], rules: ContributionRules,
             unit_ratio: Decimal, person_ratio: Decimal) -> tuple[list[ListLine], list[RowError]]:
    """校验缴存清册: the good lines and every error; post only when the errors are empty.

    The ratios are the unit's, not the file's: one out of band is raised (RuleBroken) rather
    than reported against each row. ``roster`` maps account numbers to this unit's people.
    """
    check_ratio(unit_ratio, rules, "unit_ratio")
    check_ratio(person_ratio, rules, "person_ratio")
    if not rows:
        return [], [RowError(WHOLE_FILE, "", "清册中没有缴存明细，至少应有一行")]
    lines: list[ListLine] = []
    errors: list[RowError] = []
    first_row_of: dict[str, int] = {}
    for raw in rows:
        found: list[RowError] = []
        person = _check_person(raw, roster, first_row_of, found)
        amounts = _check_amounts(raw, rules, (unit_ratio, person_ratio), found)
        if not found and person is not None and amounts is not None:
            lines.append(ListLine(raw.row, person.account_no, person.name, *amounts))
        errors.extend(found)
    return lines, errors


def summary(lines: Sequence[ListLine]) -> ListSummary:
    """(人数, 单位合计, 个人合计, 总额) of a checked list."""
    unit = sum((line.unit_amount for line in lines), Decimal("0.00"))
    person = sum((line.person_amount for line in lines), Decimal("0.00"))
    return ListSummary(len(lines), unit, person, unit + person)


# --- who ----------------------------------------------------------------------------------------

def _check_person(raw: RawRow, roster: Mapping[str, RosterEntry], first_row_of: dict[str, int],
                  found: list[RowError]) -> RosterEntry | None:
    account, name, id_no = (_text(raw.get(c)) for c in (ACCOUNT, NAME, ID_NO))
    if not name:
        found.append(RowError(raw.row, NAME, f"{NAME}不能为空"))
    if not account:
        found.append(RowError(raw.row, ACCOUNT, "个人账号不能为空"))
        return None
    if account in first_row_of:
        found.append(RowError(raw.row, ACCOUNT, f"个人账号与第 {first_row_of[account]} 行重复", account))
        return None
    first_row_of[account] = raw.row
    entry = roster.get(account)
    if entry is None:
        found.append(RowError(raw.row, ACCOUNT, "个人账号不是本单位在册职工的账户", account))
        return None
    if entry.status not in REMIT_STATES:
        state = PERSON_STATES.get(entry.status, entry.status)
        found.append(RowError(raw.row, ACCOUNT, f"该账户状态为“{state}”，不能汇缴", account))
    if name and _name_key(name) != _name_key(entry.name):
        found.append(RowError(raw.row, NAME, f"姓名与个人账号 {account} 登记的姓名“{entry.name}”不一致",
                              raw.get(NAME)))
    if id_no and entry.id_no and id_no.upper() != _text(entry.id_no).upper():
        # The registered number is not echoed: a typo'd account must not reveal someone's ID.
        found.append(RowError(raw.row, ID_NO, f"证件号码与个人账号 {account} 登记的证件号码不一致", id_no))
    return entry


def _name_key(name: str) -> str:
    return _text(name).translate(_NAME_DOTS)


# --- how much -----------------------------------------------------------------------------------

def _check_amounts(raw: RawRow, rules: ContributionRules, ratios: tuple[Decimal, Decimal],
                   found: list[RowError]) -> tuple[Decimal, Decimal, Decimal] | None:
    base = _checked_base(raw, rules, found)
    unit = _amount(raw, UNIT_AMOUNT, found)
    person = _amount(raw, PERSON_AMOUNT, found)
    if base is not None:
        expected = monthly_amount(base, *ratios, rules)
        for column, given, want, ratio in ((UNIT_AMOUNT, unit, expected.unit, ratios[0]),
                                           (PERSON_AMOUNT, person, expected.person, ratios[1])):
            if given is not None and given != want:
                found.append(RowError(raw.row, column, f"{column}应为 {want:,.2f} 元（缴存基数 {base:,.2f} × "
                                                       f"{_percent(ratio)}），清册为 {given:,.2f} 元",
                                      raw.get(column)))
    if unit is not None and person is not None and raw.get(TOTAL).strip():
        total = _amount(raw, TOTAL, found)
        if total is not None and total != unit + person:
            reason = (f"月缴存额合计应为 {unit + person:,.2f} 元（单位 {unit:,.2f} + 个人 {person:,.2f}），"
                      f"清册为 {total:,.2f} 元")
            found.append(RowError(raw.row, TOTAL, reason, raw.get(TOTAL)))
    if base is None or unit is None or person is None:
        return None
    return base, unit, person


def _checked_base(raw: RawRow, rules: ContributionRules, found: list[RowError]) -> Decimal | None:
    base = _amount(raw, BASE, found)
    if base is None:
        return None
    if base == 0:
        found.append(RowError(raw.row, BASE, "缴存基数应大于零", raw.get(BASE)))
        return None
    try:
        return check_base(base, rules).quantize(CENT)
    except RuleBroken as broken:
        found.append(RowError(raw.row, BASE, broken.message, raw.get(BASE)))
        return None


def _amount(raw: RawRow, column: str, found: list[RowError]) -> Decimal | None:
    """A non-negative amount in yuan and fen, or None after recording why not."""
    given = raw.get(column)
    text = _text(given)
    if _GROUPED.fullmatch(text):
        text = text.replace(",", "")
    if not text:
        found.append(RowError(raw.row, column, f"{column}不能为空"))
        return None
    if len(text) > _MAX_NUMBER_TEXT or not _NUMBER.fullmatch(text):
        found.append(RowError(raw.row, column, f"{column}不是有效的金额", given))
        return None
    value = Decimal(text)
    if value < 0:
        found.append(RowError(raw.row, column, f"{column}不能为负数", given))
        return None
    # Value-based like check_base: 600.000 is fine, 600.005 is not.
    if value != value.quantize(CENT):
        found.append(RowError(raw.row, column, f"{column}最多保留两位小数（元、角、分）", given))
        return None
    # Zero is a valid amount here; the base check decides whether the row may be paid.
    return value.quantize(CENT)


def _text(value: str) -> str:
    """Full-width digits and letters from an IME made plain, all spaces removed."""
    return "".join(unicodedata.normalize("NFKC", value or "").split())


def _percent(ratio: Decimal) -> str:
    return f"{format((ratio * 100).normalize(), 'f')}%"
