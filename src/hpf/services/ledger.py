"""总账: post vouchers, reverse them (红字冲销), close business days (日结), trial balance, checks.

``post``/``post_many`` run inside the caller's open unit of work: a business service writes
its rows, posts its voucher and commits once (one request, one transaction). The ledger is
append-only; a wrong voucher is reversed, never edited, and nothing is posted on or before
the last closed business day (domain.ledger.check_open).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from hpf.domain import ledger as rules
from hpf.domain.calendar import business_date
from hpf.domain.errors import Conflict, NotFound, ValidationFailed
from hpf.repositories.models import LedgerEntry, LedgerVoucher
from hpf.repositories.models.ledger import LedgerDay
from hpf.repositories.uow import UnitOfWork
from hpf.services import audit
from hpf.services.access import Principal
from hpf_adapters.db import Database


@dataclass(frozen=True)
class EntryView:
    line_no: int
    subject: str
    subject_name: str
    debit: Decimal
    credit: Decimal
    account_id: int | None
    unit_id: int | None = None


@dataclass(frozen=True)
class VoucherView:
    id: int
    voucher_no: str
    business_date: date
    business_type: str
    summary: str
    reversal_of_id: int | None
    created_by: str
    created_at: datetime
    lines: tuple[EntryView, ...] = ()
    reversed_by_id: int | None = None


@dataclass(frozen=True)
class VoucherPage:
    items: list[VoucherView]
    total: int
    page: int
    per_page: int


@dataclass(frozen=True)
class TrialBalance:
    on: date
    rows: list[rules.TrialRow]
    debit_total: Decimal   # over leaf subjects (parents would count twice)
    credit_total: Decimal
    balanced: bool


@dataclass(frozen=True)
class ClosedDay:
    business_date: date
    closed_at: datetime
    closed_by: str


# ---------------------------------------------------------------- posting

def post(uow: UnitOfWork, draft: rules.VoucherDraft, *, created_by: str,
         reversal_of_id: int | None = None) -> VoucherView:
    """记账: one balanced voucher in the caller's open unit of work (it commits)."""
    return _insert(uow, [draft], created_by, reversal_of_id)[0]


def post_many(uow: UnitOfWork, drafts: Sequence[rules.VoucherDraft], *, created_by: str) -> list[VoucherView]:
    """Several vouchers in the caller's unit of work, their entries in one set-based insert
    (a remittance of thousands of 201 lines)."""
    return _insert(uow, drafts, created_by, None)


def _insert(uow: UnitOfWork, drafts: Sequence[rules.VoucherDraft], created_by: str,
            reversal_of_id: int | None) -> list[VoucherView]:
    for draft in drafts:
        rules.check_balanced(draft)
    closed = uow.ledger.closed_through()
    for draft in drafts:
        rules.check_open(draft.business_date, closed)
    units = uow.ledger.units_of([line.account_id for d in drafts for line in d.lines
                                 if line.account_id is not None and line.unit_id is None])
    posted, rows = [], []
    for draft in drafts:
        number = uow.ledger.next_voucher_number()
        voucher = uow.ledger.add_voucher(LedgerVoucher(
            voucher_no=f"JZ{draft.business_date:%Y%m%d}{number:08d}", business_date=draft.business_date,
            business_type=draft.business_type, summary=draft.summary, reversal_of_id=reversal_of_id,
            created_by=created_by))
        lines = [{"voucher_id": voucher.id, "line_no": no, "subject_code": line.subject, "debit": line.debit,
                  "credit": line.credit, "account_id": line.account_id,
                  "unit_id": line.unit_id if line.unit_id is not None else units.get(line.account_id)}
                 for no, line in enumerate(draft.lines, start=1)]
        rows.extend(lines)
        posted.append(_view(voucher, [_entry(line) for line in lines]))
    uow.ledger.insert_entries(rows)
    return posted


def reverse(uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, voucher_id: int,
            reason: str) -> VoucherView:
    """红字冲销: the voucher's lines with sides swapped, dated today; once per voucher."""
    actor.require("ledger:post")
    reason = (reason or "").strip()
    if not reason or len(reason) > 100:
        raise ValidationFailed("请填写冲销原因（不超过 100 个字符）",
                               details={"reason": ["必填，不超过 100 个字符"]})
    with uow:
        original = uow.ledger.voucher(voucher_id, for_update=True)  # orders two reversals of it
        if original is None:
            raise NotFound("凭证不存在")
        if uow.collection.voucher_ids_with_detail(original.id):
            raise Conflict(f"凭证 {original.voucher_no} 是业务凭证（含个人明细），"
                           "请通过原业务冲正（如错缴更正）", code="voucher_has_business")
        if original.reversal_of_id is not None:
            raise Conflict(f"凭证 {original.voucher_no} 本身是冲销凭证，不能再冲销",
                           code="voucher_is_reversal")
        earlier = uow.ledger.reversal_of(original.id)
        if earlier is not None:
            raise Conflict(f"凭证 {original.voucher_no} 已由 {earlier.voucher_no} 冲销",
                           code="voucher_reversed", details={"reversed_by": earlier.voucher_no})
        draft = rules.reversal_of(_draft(original, uow.ledger.entries(original.id)), on=business_date(now))
        draft = replace(draft, summary=f"冲销 {original.voucher_no}：{reason}"[:200])
        posted = post(uow, draft, created_by=actor.username, reversal_of_id=original.id)
        audit.record(uow, actor.who(who), "ledger.reverse", target=f"voucher:{original.voucher_no}",
                     summary=f"冲销凭证 {posted.voucher_no}；原因：{reason}", now=now)
        uow.commit()
    return posted


def close_day(uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, day: date) -> ClosedDay:
    """日结: close ``day`` (after the last closed day, not after today); later postings on or
    before it are refused."""
    actor.require("ledger:close")
    today = business_date(now)
    if day > today:
        message = f"不能日结未到的业务日 {day.isoformat()}（今天是 {today.isoformat()}）"
        raise ValidationFailed(message, details={"business_date": [message]})
    with uow:
        closed = uow.ledger.closed_through()
        if closed is not None and day <= closed:
            raise Conflict(f"业务日 {day.isoformat()} 已日结（已日结至 {closed.isoformat()}）",
                           code="business_day_closed", details={"closed_through": closed.isoformat()})
        row = uow.ledger.add_day(LedgerDay(business_date=day, closed_at=now, closed_by=actor.username))
        audit.record(uow, actor.who(who), "ledger.close_day", target=f"ledger_day:{day.isoformat()}",
                     summary=f"日结 {day.isoformat()}", now=now)
        done = ClosedDay(row.business_date, row.closed_at, row.closed_by)
        uow.commit()
    return done


# ---------------------------------------------------------------- reading

def trial_balance(uow: UnitOfWork, actor: Principal, on_or_before: date) -> TrialBalance:
    """试算平衡表 of every voucher dated on or before ``on_or_before``."""
    actor.require("ledger:view")
    with uow:
        rows = rules.trial_balance(uow.ledger.subject_totals(on_or_before))
    debit = sum((r.debit for r in rows if r.leaf), rules.ZERO)
    credit = sum((r.credit for r in rows if r.leaf), rules.ZERO)
    return TrialBalance(on_or_before, rows, debit, credit, debit == credit)


def list_vouchers(uow: UnitOfWork, actor: Principal, *, date_from: date | None = None,
                  date_to: date | None = None, business_type: str | None = None,
                  subject: str | None = None, page: int = 1, per_page: int = 20) -> VoucherPage:
    """凭证查询: by date range, business type and subject, newest first."""
    actor.require("ledger:view")
    with uow:
        rows, total = uow.ledger.search(date_from=date_from, date_to=date_to, business_type=business_type,
                                        subject=subject, page=page, per_page=per_page)
        return VoucherPage([_view(v) for v in rows], total, page, per_page)


def get_voucher(uow: UnitOfWork, actor: Principal, voucher_id: int) -> VoucherView:
    """One voucher with its entries and the voucher that reversed it, if any."""
    actor.require("ledger:view")
    with uow:
        voucher = uow.ledger.voucher(voucher_id)
        if voucher is None:
            raise NotFound("凭证不存在")
        reversal = uow.ledger.reversal_of(voucher.id)
        return replace(_view(voucher, [_entry_of(e) for e in uow.ledger.entries(voucher.id)]),
                       reversed_by_id=reversal.id if reversal else None)


def check(database: Database) -> list[rules.Finding]:
    """账务核对: every voucher balances, the trial balance balances, Σ individual balances =
    balance of 201, and each unit's linked 201 lines = Σ its people's balances."""
    uow = UnitOfWork(database)
    with uow:
        findings = rules.check_ledger(uow.ledger.aggregates())
        units = [item[0] for f in findings if f.kind == "unit_sub_ledger" for item in f.items]
        numbers = uow.ledger.unit_numbers(units)
    return [replace(f, items=tuple((numbers.get(i[0], i[0]), *i[1:]) for i in f.items))
            if f.kind == "unit_sub_ledger" else f for f in findings]


# ---------------------------------------------------------------- helpers

def _draft(voucher: LedgerVoucher, entries: list[LedgerEntry]) -> rules.VoucherDraft:
    lines = tuple(rules.Line(e.subject_code, e.debit, e.credit, e.account_id, e.unit_id) for e in entries)
    return rules.VoucherDraft(voucher.business_date, voucher.business_type, voucher.summary, lines)


def _entry(row: dict) -> EntryView:
    return EntryView(row["line_no"], row["subject_code"], rules.subject(row["subject_code"]).name,
                     row["debit"], row["credit"], row["account_id"], row["unit_id"])


def _entry_of(entry: LedgerEntry) -> EntryView:
    return EntryView(entry.line_no, entry.subject_code, _name(entry.subject_code), entry.debit, entry.credit,
                     entry.account_id, entry.unit_id)


def _name(code: str) -> str:
    try:
        return rules.subject(code).name
    except ValidationFailed:  # a code planted in SQL: show it, do not fail the read
        return ""


def _view(voucher: LedgerVoucher, lines: Sequence[EntryView] = ()) -> VoucherView:
    return VoucherView(voucher.id, voucher.voucher_no, voucher.business_date, voucher.business_type,
                       voucher.summary, voucher.reversal_of_id, voucher.created_by, voucher.created_at,
                       tuple(lines))
