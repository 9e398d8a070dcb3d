"""会计核算: the chart of accounts, vouchers, posting templates and the checks on the books.

The chart is that of 《住房公积金会计核算办法》 (财会字〔1999〕33号, revised 〔2000〕12号) with
the codes HPF systems use (HPF_RULES §5); codes are fixed and never renumbered. Entries go
to leaf subjects only: a subject with sub-accounts (401, 411, 214, 321) is the sum of its
children, so its balance never depends on who posted at which level. Every business event
posts through a template below, and every template returns a checked, balanced draft.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Protocol

from hpf.domain.errors import Conflict, ValidationFailed

DEBIT, CREDIT = "debit", "credit"
ZERO = Decimal("0.00")
_MAX_AMOUNT = Decimal("1E16")  # NUMERIC(18,2)

# 归集业务类型 codes (JGJ/T 320 as used by HPF systems, HPF_RULES §1.3).
REMITTANCE, BACK_PAYMENT = "01", "02"
TRANSFER_OUT, TRANSFER_IN = "07", "08"
ANNUAL_INTEREST = "09"
PARTIAL_WITHDRAWAL, CLOSING_WITHDRAWAL = "11", "12"

FUND_DEPOSIT = "101"       # 住房公积金存款
PROVIDENT_FUND = "201"     # 住房公积金: owed to depositors; its sub-ledger is unit → person
INTEREST_PAYABLE = "211"   # 应付利息 (when interest is accrued monthly)
INTEREST_EXPENSE = "41101"  # 住房公积金利息支出


@dataclass(frozen=True)
class Subject:
    code: str
    name: str
    category: str  # 资产 | 负债 | 净资产 | 收入 | 支出
    normal_side: str  # debit | credit
    parent: str | None = None


def _s(code: str, name: str, category: str, side: str, parent: str | None = None) -> Subject:
    return Subject(code, name, category, side, parent)


CHART: tuple[Subject, ...] = (
    _s("101", "住房公积金存款", "资产", DEBIT), _s("102", "增值收益存款", "资产", DEBIT),
    _s("111", "应收利息", "资产", DEBIT), _s("119", "其他应收款", "资产", DEBIT),
    _s("121", "委托贷款", "资产", DEBIT), _s("122", "逾期贷款", "资产", DEBIT),
    _s("124", "国家债券", "资产", DEBIT),
    _s("201", "住房公积金", "负债", CREDIT), _s("211", "应付利息", "负债", CREDIT),
    _s("214", "专项应付款", "负债", CREDIT),
    _s("21402", "城市廉租住房建设补充资金", "负债", CREDIT, "214"),
    _s("219", "其他应付款", "负债", CREDIT),
    _s("301", "贷款风险准备", "净资产", CREDIT), _s("311", "增值收益", "净资产", CREDIT),
    # 增值收益分配 is debited as 增值收益 is distributed and closed against 311 at year end,
    # so whatever balance it carries is a debit. Its 7-digit sub-accounts keep the 办法's
    # numbers; the intermediate level they imply (32101) is not in our source, so they hang
    # directly under 321.
    _s("321", "增值收益分配", "净资产", DEBIT),
    _s("3210102", "提取贷款风险准备金", "净资产", DEBIT, "321"),
    _s("3210103", "管理费用", "净资产", DEBIT, "321"),
    _s("3210104", "廉租住房补充资金", "净资产", DEBIT, "321"),
    _s("401", "业务收入", "收入", CREDIT),
    _s("40101", "住房公积金利息收入", "收入", CREDIT, "401"),
    _s("40102", "增值收益利息收入", "收入", CREDIT, "401"),
    _s("40103", "委托贷款利息收入", "收入", CREDIT, "401"),
    _s("40104", "国家债券利息收入", "收入", CREDIT, "401"),
    _s("40105", "其他收入", "收入", CREDIT, "401"),
    _s("411", "业务支出", "支出", DEBIT),
    _s("41101", "住房公积金利息支出", "支出", DEBIT, "411"),
    _s("41102", "归集手续费支出", "支出", DEBIT, "411"),
    _s("41103", "委托贷款手续费支出", "支出", DEBIT, "411"),
    _s("41104", "其他支出", "支出", DEBIT, "411"),
)
_BY_CODE = {s.code: s for s in CHART}
_PARENTS = {s.parent for s in CHART if s.parent}
# Subjects whose lines may name an individual account (the FK on ledger_entry.account_id).
SUB_LEDGER_SUBJECTS = frozenset({PROVIDENT_FUND})


class UnbalancedVoucher(ValidationFailed):
    code = "voucher_unbalanced"
    message = "借贷不平"


class DayClosed(Conflict):
    code = "business_day_closed"
    message = "该业务日已日结，不能记账"


def subject(code: str) -> Subject:
    """The subject with ``code``; ValidationFailed names an unknown one."""
    try:
        return _BY_CODE[code]
    except KeyError:
        message = f"未知会计科目 {code}"
        raise ValidationFailed(message, details={"subject": [message]}) from None


def is_leaf(code: str) -> bool:
    return code in _BY_CODE and code not in _PARENTS


@dataclass(frozen=True)
class Line:
    subject: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    account_id: int | None = None
    unit_id: int | None = None  # 201's unit sub-ledger (filled from the account when absent)


@dataclass(frozen=True)
class VoucherDraft:
    business_date: date
    business_type: str  # 归集/资金业务类型 code, 4 characters at most
    summary: str        # 摘要, 200 characters at most
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Share:
    """One person's part of a posting; ``account_id=None`` is an aggregated 201 line."""

    account_id: int | None
    amount: Decimal


def check_balanced(draft: VoucherDraft) -> VoucherDraft:
    """The draft if it may be posted: known leaf subjects, one side per line, debits = credits."""
    problems: dict[str, list[str]] = {}
    if len(draft.lines) < 2:
        problems["lines"] = ["凭证至少需要两条分录"]
    if not draft.summary.strip() or len(draft.summary) > 200:
        problems["summary"] = ["摘要不能为空且不能超过 200 个字符"]
    if not draft.business_type or len(draft.business_type) > 4:
        problems["business_type"] = ["业务类型代码应为 1 至 4 个字符"]
    for no, line in enumerate(draft.lines, start=1):
        found = _line_problems(line)
        if found:
            problems[f"lines[{no}]"] = found
    if problems:
        raise ValidationFailed(details=problems)
    debit = sum((line.debit for line in draft.lines), ZERO)
    credit = sum((line.credit for line in draft.lines), ZERO)
    if debit != credit:
        raise UnbalancedVoucher(f"借贷不平：借方 {debit:.2f}，贷方 {credit:.2f}",
                                details={"difference": f"{debit - credit:.2f}"})
    return draft


def _line_problems(line: Line) -> list[str]:
    if not is_leaf(line.subject):
        known = line.subject in _BY_CODE
        return [f"科目 {line.subject} {'有下级科目，应记入明细科目' if known else '不存在'}"]
    out = [f"金额 {value!r} 应为不超过两位小数的非负 Decimal"
           for value in (line.debit, line.credit)
           if not isinstance(value, Decimal) or not value.is_finite() or not 0 <= value < _MAX_AMOUNT
           or value != value.quantize(Decimal("0.01"))]
    if not out and (line.debit > 0) == (line.credit > 0):
        out.append("每条分录必须且只能在借方或贷方之一记金额")
    if line.account_id is not None and line.subject not in SUB_LEDGER_SUBJECTS:
        out.append(f"科目 {line.subject} 不登记个人账户明细")
    return out


def check_open(business_date: date, closed_through: date | None) -> None:
    """Refuse a posting on or before the last closed business day (日结)."""
    if closed_through is not None and business_date <= closed_through:
        raise DayClosed(f"业务日 {business_date.isoformat()} 已日结，不能记账",
                        details={"closed_through": closed_through.isoformat()})


# --- Posting templates (HPF_RULES §5 "Core postings") -----------------------------------------
#
# 201 lines: with per-person shares the voucher itself is the individual sub-ledger; a large
# remittance may instead pass one Share(None, total) and keep the split in the individual
# detail table. The control-account check (Σ individual balances = balance of 201) compares
# subject totals only, so it holds either way.

def remittance(business_date: date, summary: str, shares: Sequence[Share],
               business_type: str = REMITTANCE) -> VoucherDraft:
    """汇缴/补缴入账: Dr 101 total / Cr 201 per person (or one aggregated line)."""
    credits = _share_lines(PROVIDENT_FUND, CREDIT, shares)
    return _draft(business_date, business_type, summary,
                  [Line(FUND_DEPOSIT, debit=_total(credits, CREDIT)), *credits])


def back_payment(business_date: date, summary: str, shares: Sequence[Share]) -> VoucherDraft:
    """补缴入账: the remittance entry under business type 02."""
    return remittance(business_date, summary, shares, BACK_PAYMENT)


def partial_withdrawal(business_date: date, summary: str, account_id: int, amount: Decimal) -> VoucherDraft:
    """部分提取: Dr 201 / Cr 101; no interest is settled (HPF_RULES §2)."""
    return _draft(business_date, PARTIAL_WITHDRAWAL, summary,
                  [Line(PROVIDENT_FUND, debit=amount, account_id=account_id),
                   Line(FUND_DEPOSIT, credit=amount)])


def closing_withdrawal(business_date: date, summary: str, account_id: int, principal: Decimal,
                       interest: Decimal, *, interest_from: str = INTEREST_EXPENSE) -> VoucherDraft:
    """销户提取: Dr 201 principal + Dr 41101 interest (211 if accrued) / Cr 101 both."""
    if interest_from not in (INTEREST_EXPENSE, INTEREST_PAYABLE):
        raise ValidationFailed(details={"interest_from": ["销户利息应从利息支出(41101)或应付利息(211)列支"]})
    return _close_out(CLOSING_WITHDRAWAL, business_date, summary,
                      (account_id, principal, interest), interest_from)


def transfer_out(business_date: date, summary: str, account_id: int, principal: Decimal,
                 interest: Decimal = ZERO) -> VoucherDraft:
    """外部转出: Dr 201 (+ Dr 41101 closure interest) / Cr 101."""
    return _close_out(TRANSFER_OUT, business_date, summary, (account_id, principal, interest),
                      INTEREST_EXPENSE)


def transfer_in(business_date: date, summary: str, account_id: int, amount: Decimal) -> VoucherDraft:
    """外部转入: Dr 101 / Cr 201."""
    return _draft(business_date, TRANSFER_IN, summary,
                  [Line(FUND_DEPOSIT, debit=amount),
                   Line(PROVIDENT_FUND, credit=amount, account_id=account_id)])


def annual_interest(business_date: date, summary: str, shares: Sequence[Share],
                    *, interest_from: str = INTEREST_EXPENSE) -> VoucherDraft:
    """年终结息: Dr 41101 (or 211 when accrued monthly) total / Cr 201 per account."""
    credits = _share_lines(PROVIDENT_FUND, CREDIT, shares)
    return _draft(business_date, ANNUAL_INTEREST, summary,
                  [Line(interest_from, debit=_total(credits, CREDIT)), *credits])


def reversal_of(draft: VoucherDraft, *, on: date | None = None) -> VoucherDraft:
    """红字冲销: the same lines with sides swapped (amounts stay ≥ 0), dated ``on`` if given.

    The service links the posted voucher to the one it reverses (``reversal_of_id``).
    """
    swapped = tuple(replace(line, debit=line.credit, credit=line.debit) for line in draft.lines)
    return check_balanced(VoucherDraft(on or draft.business_date, draft.business_type,
                                       f"冲销：{draft.summary}"[:200], swapped))


def _close_out(business_type: str, business_date: date, summary: str,
               account: tuple[int, Decimal, Decimal], interest_from: str) -> VoucherDraft:
    account_id, principal, interest = account
    # Either part may be nil: an account closed on the first day of the interest year has no
    # interest; one emptied by earlier withdrawals pays only the interest it earned before.
    lines = [line for line in (Line(PROVIDENT_FUND, debit=principal, account_id=account_id),
                               Line(interest_from, debit=interest)) if line.debit != 0]
    lines.append(Line(FUND_DEPOSIT, credit=_total(lines, DEBIT)))
    return _draft(business_date, business_type, summary, lines)


def _share_lines(code: str, side: str, shares: Sequence[Share]) -> list[Line]:
    # A person with nothing to post (no interest on a zero balance) gets no line.
    return [Line(code, account_id=s.account_id, **{side: s.amount}) for s in shares if s.amount != 0]


def _total(lines: Iterable[Line], side: str) -> Decimal:
    return sum((getattr(line, side) for line in lines), ZERO)


def _draft(business_date: date, business_type: str, summary: str, lines: list[Line]) -> VoucherDraft:
    return check_balanced(VoucherDraft(business_date, business_type, summary, tuple(lines)))


# --- Trial balance and the invariants of `hpf ledger check` -------------------------------------

class Posting(Protocol):
    """A line, or per-subject totals from a GROUP BY: anything with these three fields."""

    subject: str
    debit: Decimal
    credit: Decimal


@dataclass(frozen=True)
class SubjectTotal:
    subject: str
    debit: Decimal
    credit: Decimal


@dataclass(frozen=True)
class TrialRow:
    code: str
    name: str
    normal_side: str
    debit: Decimal
    credit: Decimal
    balance: Decimal  # on the normal side; negative means an abnormal balance
    leaf: bool


def trial_balance(postings: Iterable[Posting]) -> list[TrialRow]:
    """试算平衡表: totals per subject, parents rolled up from their children, ordered by code."""
    sums: dict[str, tuple[Decimal, Decimal]] = {}
    for p in postings:
        for code in (p.subject, subject(p.subject).parent):
            if code:
                debit, credit = sums.get(code, (ZERO, ZERO))
                sums[code] = (debit + p.debit, credit + p.credit)
    rows = []
    for code in sorted(sums):
        s, (debit, credit) = subject(code), sums[code]
        balance = debit - credit if s.normal_side == DEBIT else credit - debit
        rows.append(TrialRow(code, s.name, s.normal_side, debit, credit, balance, is_leaf(code)))
    return rows


@dataclass(frozen=True)
class Finding:
    kind: str
    message: str
    items: tuple[object, ...] = ()


@dataclass(frozen=True)
class VoucherTotal:
    voucher_no: str
    debit: Decimal
    credit: Decimal


@dataclass(frozen=True)
class LedgerAggregates:
    """What `hpf ledger check` reads with a few GROUP BY queries."""

    voucher_totals: Sequence[VoucherTotal]
    subject_totals: Sequence[SubjectTotal]
    individual_total: Decimal            # Σ individual_account.balance
    unit_balances: Mapping[int, Decimal]  # unit sub-ledger balance per unit
    unit_people: Mapping[int, Decimal]    # Σ of its people's balances per unit
    # (account no, balance, Σ of its detail lines) where the two differ (first few)
    detail_mismatches: Sequence[tuple[str, Decimal, Decimal]] = ()


def check_trial_balance(rows: Sequence[TrialRow]) -> list[Finding]:
    """Σ debits = Σ credits over the leaf subjects (parents would count twice)."""
    debit = sum((r.debit for r in rows if r.leaf), ZERO)
    credit = sum((r.credit for r in rows if r.leaf), ZERO)
    if debit == credit:
        return []
    return [Finding("trial_balance", f"试算不平衡：借方合计 {debit:.2f}，贷方合计 {credit:.2f}",
                    (debit, credit))]


def find_unbalanced_vouchers(totals: Iterable[VoucherTotal]) -> list[Finding]:
    bad = tuple(t for t in totals if t.debit != t.credit)
    if not bad:
        return []
    return [Finding("voucher_unbalanced", f"{len(bad)} 张凭证借贷不平", bad)]


def check_control_account(subject_201_balance: Decimal, individual_total: Decimal) -> list[Finding]:
    """Σ individual balances = balance of 201 (its whole balance, however its lines were split)."""
    if subject_201_balance == individual_total:
        return []
    difference = subject_201_balance - individual_total
    return [Finding("control_account", f"住房公积金科目(201)余额 {subject_201_balance:.2f} 与个人账户"
                    f"余额合计 {individual_total:.2f} 不符，差额 {difference:.2f}",
                    (subject_201_balance, individual_total))]


def check_unit_sub_ledgers(unit_balances: Mapping[int, Decimal],
                           unit_people: Mapping[int, Decimal]) -> list[Finding]:
    """Each unit's sub-ledger equals the sum of its people's balances (a missing side is 0)."""
    bad = tuple((unit, unit_balances.get(unit, ZERO), unit_people.get(unit, ZERO))
                for unit in sorted({*unit_balances, *unit_people})
                if unit_balances.get(unit, ZERO) != unit_people.get(unit, ZERO))
    if not bad:
        return []
    return [Finding("unit_sub_ledger", f"{len(bad)} 个单位的分户账余额与其职工个人账户余额合计不符", bad)]


def check_account_detail(mismatches: Sequence[tuple[str, Decimal, Decimal]]) -> list[Finding]:
    """Each account's balance is the sum of its detail (the individual sub-ledger)."""
    if not mismatches:
        return []
    count = f"至少 {len(mismatches)}" if len(mismatches) >= 20 else str(len(mismatches))
    return [Finding("account_detail", f"{count} 个个人账户余额与其明细合计不符（最多列出 20 个）",
                    tuple(mismatches))]


def check_ledger(agg: LedgerAggregates) -> list[Finding]:
    """Every invariant of the books; an empty list means they all hold."""
    rows = trial_balance(agg.subject_totals)
    fund = next((r.balance for r in rows if r.code == PROVIDENT_FUND), ZERO)
    return [*find_unbalanced_vouchers(agg.voucher_totals), *check_trial_balance(rows),
            *check_control_account(fund, agg.individual_total),
            *check_unit_sub_ledgers(agg.unit_balances, agg.unit_people),
            *check_account_detail(agg.detail_mismatches)]
