"""汇缴 and 补缴: list, import, match to the bank credit, post, correct by reversal.

A remittance (汇缴单) is one unit's list for one month: generated from the roster (base ×
ratio, each share rounded per the dated parameters) or imported from the unit's 清册 (any
bad row and nothing is listed; the row-by-row report comes back). It waits for the bank
credit (到账): the bank adapter's credits are matched by the remittance number in the 附言
and the exact amount. Posting writes, in one transaction and set-based for any number of
remittances, the individual detail lines, the balances, the units' 缴至年月 and one
balanced voucher per business type (Dr 101 / Cr 201 per unit). A posted remittance is
corrected only by reversal (错缴更正, maker-checker), which frees the month to be listed
again. Every write is audited in its own transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from hpf.domain import accounts as states
from hpf.domain import ledger as books
from hpf.domain import matching
from hpf.domain import remittance as rules
from hpf.domain.calendar import business_date
from hpf.domain.contribution import RuleBroken, YearMonth, check_remittance_month
from hpf.domain.errors import Conflict, NotFound, ValidationFailed
from hpf.domain.remittance_list import ListRejected, RosterEntry, RowError, validate
from hpf.repositories.models import Remittance, Unit
from hpf.repositories.uow import UnitOfWork
from hpf.services import approvals, audit, ledger
from hpf.services.access import Principal
from hpf.services.remittance_files import read_rows
from hpf.services.units import contribution_rules, load_in_scope

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class RemittanceView:
    id: int
    remittance_no: str
    unit_id: int
    unit_no: str
    unit_name: str
    kind: str
    kind_name: str
    month: str
    month_to: str
    reason: str | None
    source: str
    status: str
    status_name: str
    people: int
    unit_total: Decimal
    person_total: Decimal
    total: Decimal
    payment_reference: str  # the 附言 the unit must write on its transfer
    credited_on: date | None
    posted_on: date | None
    voucher_id: int | None
    reversal_voucher_id: int | None
    reversal_reason: str | None
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class RemittancePage:
    items: list[RemittanceView]
    total: int
    page: int
    per_page: int


@dataclass(frozen=True)
class PostResult:
    remittances: int
    lines: int
    total: Decimal
    vouchers: list[str]


@dataclass(frozen=True)
class MatchResult:
    received: int
    matched: int
    wrong_amount: int
    unknown: int


# ---------------------------------------------------------------- listing


def create(
    uow: UnitOfWork,
    actor: Principal,
    who: audit.Who,
    now: datetime,
    unit_id: int,
    month: str,
    *,
    kind: str = "01",
    month_to: str | None = None,
    reason: str | None = None,
) -> RemittanceView:
    """汇缴 (or 补缴) from the roster: every 正常 account of the unit, base × ratio."""
    actor.require("remittance:entry")
    today = business_date(now)
    with uow:
        unit = load_in_scope(uow, actor, unit_id, for_update=True)
        header = _new_header(uow, actor, unit, kind, month, month_to, reason, today, "roster")
        uow.collection.generate_lines([header.id], contribution_rules(uow, today))
        view = _finish_listing(uow, actor, who, now, header, unit)
        uow.commit()
    return view


def create_month(uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, month: str) -> int:
    """生成本月汇缴单: one roster remittance for every unit in scope that is due for ``month``
    (paid up to the month before, or new), set-based; returns how many were listed. Units
    without paying staff are skipped."""
    actor.require("remittance:entry")
    today = business_date(now)
    current = YearMonth.parse(month, "month")
    check_remittance_month(current, None, today)
    with uow:
        due = uow.collection.units_due(str(current), str(current.prev()), actor.scope.org_ids)
        rules_ = contribution_rules(uow, today)
        totals = uow.collection.roster_totals([uid for uid, _ in due], rules_)
        due = [(uid, no) for uid, no in due if totals.get(uid, (0,))[0] > 0]
        if not due:
            return 0
        numbers = uow.collection.next_numbers(len(due))
        rows = []
        for (unit_id, _no), counter in zip(due, numbers, strict=True):
            people, unit_total, person_total = totals[unit_id]
            rows.append(
                {
                    "remittance_no": rules.number(current, counter),
                    "unit_id": unit_id,
                    "kind": rules.REMITTANCE,
                    "month": str(current),
                    "month_to": str(current),
                    "reason": None,
                    "source": "roster",
                    "status": rules.LISTED,
                    "people": people,
                    "unit_total": unit_total,
                    "person_total": person_total,
                    "total": unit_total + person_total,
                    "live_key": rules.live_key(unit_id, str(current)),
                    "created_by": actor.username,
                    "created_at": now,
                }
            )
        uow.collection.insert_headers(rows)
        uow.collection.generate_lines(None, rules_, month=str(current))
        amount = sum((r["total"] for r in rows), ZERO)
        audit.record(
            uow,
            actor.who(who),
            "remittance.create_month",
            target=f"month:{current}",
            summary=f"生成 {current} 汇缴单 {len(rows)} 张，合计 {amount:,.2f} 元",
            now=now,
        )
        uow.commit()
    return len(rows)


def import_list(
    uow: UnitOfWork,
    actor: Principal,
    who: audit.Who,
    now: datetime,
    unit_id: int,
    month: str,
    filename: str,
    data: bytes,
    *,
    kind: str = "01",
    month_to: str | None = None,
    reason: str | None = None,
) -> RemittanceView:
    """清册导入: every row checked; any bad row → ListRejected and nothing is written."""
    actor.require("remittance:entry")
    today = business_date(now)
    raw = read_rows(filename, data)
    with uow:
        unit = load_in_scope(uow, actor, unit_id, for_update=True)
        roster = uow.collection.roster(unit.id)
        lines, errors = _check_list(uow, unit, raw, roster, today)
        if errors:
            raise ListRejected(errors)
        header = _new_header(uow, actor, unit, kind, month, month_to, reason, today, "import")
        ids = {r["account_no"]: r["id"] for r in roster}
        months = _months(header)
        uow.collection.insert_lines(
            [
                {
                    "remittance_id": header.id,
                    "account_id": ids[line.account_no],
                    "base": line.base,
                    "unit_amount": line.unit_amount * months,
                    "person_amount": line.person_amount * months,
                    "amount": line.total * months,
                }
                for line in lines
            ]
        )
        view = _finish_listing(uow, actor, who, now, header, unit)
        uow.commit()
    return view


def check_import(
    uow: UnitOfWork, actor: Principal, now: datetime, unit_id: int, filename: str, data: bytes
) -> list[RowError]:
    """The row-by-row errors of a list, without listing anything (for the Excel report)."""
    actor.require("remittance:entry")
    raw = read_rows(filename, data)
    with uow:
        unit = load_in_scope(uow, actor, unit_id)
        return _check_list(uow, unit, raw, uow.collection.roster(unit.id), business_date(now))[1]


def _check_list(uow: UnitOfWork, unit: Unit, raw, roster: list[dict], today: date):
    """Every row of a 清册 against the unit's roster and the rules in force: (lines, errors)."""
    entries = {r["account_no"]: RosterEntry(r["account_no"], r["name"], r["status"], r["unit_id"])
               for r in roster}
    return validate(raw, entries, contribution_rules(uow, today), Decimal(unit.unit_ratio),
                    Decimal(unit.person_ratio))


def _new_header(
    uow: UnitOfWork,
    actor: Principal,
    unit: Unit,
    kind: str,
    month: str,
    month_to: str | None,
    reason: str | None,
    today: date,
    source: str,
) -> Remittance:
    if kind not in rules.KINDS:
        raise RuleBroken("kind", f"业务类型应为 01 汇缴 或 02 补缴（收到 {kind}）")
    first = YearMonth.parse(month, "month")
    paid_up_to = YearMonth.parse(unit.paid_up_to) if unit.paid_up_to else None
    live_key = None
    if kind == rules.REMITTANCE:
        if unit.status not in rules.UNIT_CAN_REMIT:
            raise states.StateRefused(
                f"单位状态为“{states.UNIT_STATES.get(unit.status, unit.status)}”，不能汇缴"
            )
        check_remittance_month(first, paid_up_to, today)
        if uow.collection.standing(unit.id, str(first)) is not None:
            raise Conflict(f"{unit.unit_no} {first} 已有汇缴单，请勿重复生成", code="remittance_exists")
        last, live_key, reason = first, rules.live_key(unit.id, str(first)), None
    else:
        if unit.status not in rules.UNIT_CAN_BACK_PAY:
            raise states.StateRefused(
                f"单位状态为“{states.UNIT_STATES.get(unit.status, unit.status)}”，不能补缴"
            )
        last = YearMonth.parse(month_to or month, "month_to")
        rules.check_back_months(first, last, today, unit.opened_on)
        reason = rules.check_reason(reason)
    counter = uow.collection.next_numbers(1)[0]
    header = Remittance(
        remittance_no=rules.number(first, counter),
        unit_id=unit.id,
        kind=kind,
        month=str(first),
        month_to=str(last),
        reason=reason,
        source=source,
        status=rules.LISTED,
        people=0,
        unit_total=ZERO,
        person_total=ZERO,
        total=ZERO,
        live_key=live_key,
        created_by=actor.username,
    )
    try:
        with uow.session.begin_nested():
            return uow.collection.add_remittance(header)
    except sa.exc.IntegrityError:  # a concurrent twin listed the same unit-month first
        raise Conflict(f"{unit.unit_no} {first} 已有汇缴单，请勿重复生成", code="remittance_exists") from None


def _months(header: Remittance) -> int:
    return YearMonth.parse(header.month_to).index - YearMonth.parse(header.month).index + 1


def _finish_listing(
    uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, header: Remittance, unit: Unit
) -> RemittanceView:
    totals = uow.collection.line_totals([header.id]).get(header.id)
    if not totals or totals[0] == 0:
        raise ValidationFailed(
            "该单位没有可缴存的正常状态职工（或职工未设缴存基数）", details={"unit_id": ["没有可缴存的职工"]}
        )
    people, unit_total, person_total = totals
    if header.source == "roster" and header.kind == rules.BACK_PAYMENT:
        months = _months(header)  # 补缴 from the roster: the monthly list × the months covered
        uow.collection.multiply_lines(header.id, months)
        unit_total, person_total = unit_total * months, person_total * months
    header.people, header.unit_total, header.person_total = people, unit_total, person_total
    header.total = unit_total + person_total
    uow.session.flush()
    audit.record(
        uow,
        actor.who(who),
        f"remittance.{'create' if header.source == 'roster' else 'import'}",
        target=f"remittance:{header.remittance_no}",
        summary=f"{rules.KINDS[header.kind]} {header.month}"
        f"{'-' + header.month_to if header.month_to != header.month else ''}："
        f"{people} 人，合计 {header.total:,.2f} 元",
        now=now,
    )
    return _view(header, unit)


def cancel(
    uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, remittance_id: int
) -> RemittanceView:
    """作废 a remittance not yet credited; the month may be listed again."""
    actor.require("remittance:entry")
    with uow:
        header, unit = _load(uow, actor, remittance_id, for_update=True)
        rules.check_state(header.status, (rules.LISTED,), "作废")
        header.status, header.live_key = rules.CANCELLED, None
        uow.session.flush()
        audit.record(
            uow,
            actor.who(who),
            "remittance.cancel",
            target=f"remittance:{header.remittance_no}",
            summary=f"作废 {rules.KINDS[header.kind]} {header.month}",
            now=now,
        )
        view = _view(header, unit)
        uow.commit()
    return view


# ---------------------------------------------------------------- bank credits


def receive_credits(uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime,
                    credits: Sequence) -> MatchResult:
    """到账: store the bank's credits (a resent one is skipped) and match every open credit
    by the remittance number in its 附言 and the exact amount."""
    actor.require("remittance:post")
    rows = [
        {
            "bank_ref": c.bank_ref,
            "payer_account": c.payer_account,
            "payer_name": c.payer_name[:100],
            "amount": c.amount,
            "value_date": c.value_date,
            "reference": c.reference[:200],
            "received_at": now,
            "status": "0",
            "remittance_id": None,
            "note": None,
        }
        for c in credits
    ]
    with uow:
        received = uow.collection.add_credits(rows)
        result = _match_open(uow)
        audit.record(uow, actor.who(who), "remittance.credits", target="bank",
                     summary=f"银行到账 {len(rows)} 笔（新 {received} 笔）：匹配 {result[0]}，"
                             f"金额不符 {result[1]}，无法识别 {result[2]}", now=now)
        uow.commit()
    return MatchResult(received, *result)


def _match_open(uow: UnitOfWork) -> tuple[int, int, int]:
    open_credits = uow.collection.open_credits()
    numbers = {c.id: matching.parse_reference(c.reference) for c in open_credits}
    due = uow.collection.awaiting([n for n in numbers.values() if n])
    result = matching.match({no: total for no, (_, total) in due.items()}, open_credits)
    by_ref = {c.bank_ref: c for c in open_credits}
    pairs = [
        {
            "credit_id": by_ref[m.bank_ref].id,
            "remittance_id": due[m.remittance_no][0],
            "value_date": by_ref[m.bank_ref].value_date,
        }
        for m in result.matched
    ]
    uow.collection.mark_matched(pairs)
    notes = [
        {"id": by_ref[w.bank_ref].id, "status": "2", "remittance_id": None, "note": w.reason[:200]}
        for w in result.wrong_amount
    ]
    notes += [
        {"id": by_ref[u.bank_ref].id, "status": "3", "remittance_id": None, "note": u.reason[:200]}
        for u in (*result.unknown, *result.duplicates)
    ]
    uow.collection.mark_credits(notes)
    return len(pairs), len(result.wrong_amount), len(notes) - len(result.wrong_amount)


def match_by_hand(
    uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, remittance_id: int, credit_id: int
) -> RemittanceView:
    """A teller pairs an open credit with a remittance; the amounts must agree to the fen."""
    actor.require("remittance:post")
    with uow:
        header, unit = _load(uow, actor, remittance_id, for_update=True)
        rules.check_state(header.status, (rules.LISTED,), "匹配到账")
        credit = uow.collection.credit(credit_id, for_update=True)
        if credit is None:
            raise NotFound("到账记录不存在")
        if credit.status == "1":
            raise Conflict("该笔到账已匹配其他汇缴单", code="credit_matched")
        matching.check_credit_amount(Decimal(header.total), Decimal(credit.amount))
        uow.collection.mark_matched(
            [{"credit_id": credit.id, "remittance_id": header.id, "value_date": credit.value_date}]
        )
        audit.record(
            uow,
            actor.who(who),
            "remittance.match",
            target=f"remittance:{header.remittance_no}",
            summary=f"手工匹配到账 {credit.bank_ref}，金额 {credit.amount:,.2f} 元",
            now=now,
        )
        uow.session.expire_all()
        view = _view(uow.collection.get(header.id), unit)
        uow.commit()
    return view


# ---------------------------------------------------------------- posting


def post(
    uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, remittance_ids: Sequence[int]
) -> PostResult:
    """入账: the credited remittances, all or none, in one transaction."""
    actor.require("remittance:post")
    ids = sorted(set(remittance_ids))
    if not ids:
        raise ValidationFailed("请选择要入账的汇缴单", details={"remittance_ids": ["至少一项"]})
    today = business_date(now)
    with uow:
        if actor.scope.org_ids is not None:
            _check_scope(uow, actor, ids)
        claimed = uow.collection.claim_for_posting(ids, today, actor.username)
        if claimed != len(ids):
            raise Conflict(
                f"{len(ids) - claimed} 张汇缴单不是“已到账”状态（未到账、已入账或正由他人入账），本批未入账",
                code="remittance_not_postable",
            )
        batch = uow.collection.batch_units()
        months, activate = _unit_months(batch)
        totals: dict[str, dict[int, Decimal]] = {}
        for _rid, unit_id, kind, _m, _mt, total, _p, _s in batch:
            per_unit = totals.setdefault(kind, {})
            per_unit[unit_id] = per_unit.get(unit_id, ZERO) + Decimal(total)
        drafts = [
            _voucher(kind, today, per_unit, len([b for b in batch if b[2] == kind]))
            for kind, per_unit in sorted(totals.items())
        ]
        posted = ledger.post_many(uow, drafts, created_by=actor.username)
        vouchers = {kind: v.id for kind, v in zip(sorted(totals), posted, strict=True)}
        lines = uow.collection.post_batch_detail(vouchers, today)
        uow.collection.link_batch(vouchers)
        uow.collection.advance_units(months, activate)
        amount = sum((Decimal(b[5]) for b in batch), ZERO)
        audit.record(
            uow,
            actor.who(who),
            "remittance.post",
            target=f"voucher:{posted[0].voucher_no}",
            summary=f"入账 {len(batch)} 张汇缴单，{lines} 笔明细，合计 {amount:,.2f} 元；凭证 "
            + "、".join(v.voucher_no for v in posted),
            now=now,
        )
        uow.commit()
    return PostResult(len(batch), lines, amount, [v.voucher_no for v in posted])


def _check_scope(uow: UnitOfWork, actor: Principal, ids: list[int]) -> None:
    for org_id in uow.collection.orgs_of(ids):
        actor.require_scope(org_id)


def _unit_months(batch) -> tuple[dict[int, str], set[int]]:
    """The new 缴至年月 per unit: a 汇缴 must be the month after it (or a first remittance)."""
    months: dict[int, str] = {}
    activate: set[int] = set()
    by_unit: dict[int, list] = {}
    for row in batch:
        if row[2] == rules.REMITTANCE:
            by_unit.setdefault(row[1], []).append(row)
    for unit_id, rows in by_unit.items():
        paid = rows[0][6]
        for _rid, _u, _k, month, _mt, _t, _p, status in sorted(rows, key=lambda r: r[3]):
            if status not in rules.UNIT_CAN_REMIT:
                raise states.StateRefused(
                    f"单位状态为“{states.UNIT_STATES.get(status, status)}”，不能汇缴入账"
                )
            if paid is not None and YearMonth.parse(month) != YearMonth.parse(paid).next():
                raise RuleBroken(
                    "month", f"汇缴月份 {month} 不是缴至年月 {paid} 的下一个月，请先处理前面的月份"
                )
            paid = month
            if status == states.UNIT_INITIAL:
                activate.add(unit_id)
        months[unit_id] = paid
    return months, activate


def _voucher(kind: str, on: date, per_unit: dict[int, Decimal], count: int) -> books.VoucherDraft:
    credits = [
        books.Line(books.PROVIDENT_FUND, credit=amount, unit_id=unit_id)
        for unit_id, amount in sorted(per_unit.items())
        if amount != 0
    ]
    total = sum((line.credit for line in credits), ZERO)
    summary = f"{rules.KINDS[kind]}入账：{count} 张{rules.KINDS[kind]}单，{len(credits)} 个单位"
    return books.check_balanced(
        books.VoucherDraft(on, kind, summary, (books.Line(books.FUND_DEPOSIT, debit=total), *credits))
    )


# ---------------------------------------------------------------- 错缴更正


def request_reversal(
    uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, remittance_id: int, reason: str
) -> approvals.Submitted:
    """错缴更正 request: checked now, applied when a reviewer approves (maker-checker)."""
    actor.require("remittance:reverse")
    reason = (reason or "").strip()
    if not reason or len(reason) > 100:
        raise ValidationFailed(
            "请填写更正原因（不超过 100 个字符）", details={"reason": ["必填，不超过 100 个字符"]}
        )
    with uow:
        header, unit = _load(uow, actor, remittance_id)
        rules.check_state(header.status, (rules.POSTED,), "冲正")
        label, total, org_id, name = header.remittance_no, Decimal(header.total), unit.org_id, unit.name
    return approvals.submit(
        uow,
        actor,
        who,
        now,
        "remittance.reverse",
        {"remittance_id": remittance_id, "reason": reason},
        summary=f"错缴更正 {label}（{name}，{total:,.2f} 元）：{reason}",
        amount=total,
        org_id=org_id,
    )


def _apply_reversal(ctx: approvals.Context, payload: dict) -> str:
    uow = ctx.uow
    header = uow.collection.get(int(payload["remittance_id"]), for_update=True)
    if header is None:
        raise NotFound("汇缴单不存在")
    rules.check_state(header.status, (rules.POSTED,), "冲正")
    short = uow.collection.short_balances(header.id)
    if short:
        raise Conflict(
            f"以下个人账户余额已不足冲回本次缴存（已提取）：{'、'.join(short)}", code="balance_insufficient"
        )
    unit = uow.units.get(header.unit_id, for_update=True)
    today = business_date(ctx.now)
    lines = [
        books.Line(books.PROVIDENT_FUND, debit=Decimal(header.total), unit_id=header.unit_id),
        books.Line(books.FUND_DEPOSIT, credit=Decimal(header.total)),
    ]
    original = uow.ledger.voucher(header.voucher_id)
    draft = books.VoucherDraft(
        today,
        header.kind,
        f"错缴更正 {header.remittance_no}（原凭证 {original.voucher_no}）：{payload['reason']}"[:200],
        tuple(lines),
    )
    voucher = ledger.post(uow, draft, created_by=ctx.maker)
    count = uow.collection.reverse_detail(header.id, voucher.id, today)
    header.status, header.live_key = rules.REVERSED, None
    header.reversal_voucher_id, header.reversal_reason = voucher.id, payload["reason"][:100]
    if header.kind == rules.REMITTANCE and unit.paid_up_to == header.month:
        unit.paid_up_to = uow.collection.latest_posted_month(unit.id, exclude=header.id)
    uow.session.flush()
    audit.record(
        uow,
        ctx.who,
        "remittance.reverse",
        target=f"remittance:{header.remittance_no}",
        summary=f"错缴更正：冲回 {count} 笔明细，{header.total:,.2f} 元，凭证 {voucher.voucher_no}；"
        f"原因：{payload['reason']}（经办 {ctx.maker}，复核 {ctx.checker or '-'}）"[:500],
        now=ctx.now,
    )
    return f"汇缴单 {header.remittance_no} 已冲正（凭证 {voucher.voucher_no}）"


approvals.register("remittance.reverse", "错缴更正", _apply_reversal, maker_permission="remittance:reverse")


# ---------------------------------------------------------------- reading


def list_remittances(
    uow: UnitOfWork,
    actor: Principal,
    *,
    unit_id: int | None = None,
    month: str | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> RemittancePage:
    actor.require("unit:view")
    with uow:
        rows, total = uow.collection.search(
            org_ids=actor.scope.org_ids,
            unit_id=unit_id,
            month=month,
            status=status,
            offset=(page - 1) * per_page,
            limit=per_page,
        )
        return RemittancePage([_view(r, u) for r, u in rows], total, page, per_page)


def get(uow: UnitOfWork, actor: Principal, remittance_id: int) -> RemittanceView:
    actor.require("unit:view")
    with uow:
        return _view(*_load(uow, actor, remittance_id))


def lines(
    uow: UnitOfWork, actor: Principal, remittance_id: int, page: int = 1, per_page: int = 100
) -> tuple[list[dict], int]:
    actor.require("unit:view")
    with uow:
        header, _ = _load(uow, actor, remittance_id)
        return (uow.collection.lines(header.id, (page - 1) * per_page, per_page), header.people)


def open_credits(uow: UnitOfWork, actor: Principal) -> list[dict]:
    actor.require("remittance:post")
    with uow:
        return [
            {
                "id": c.id,
                "bank_ref": c.bank_ref,
                "payer_name": c.payer_name,
                "amount": c.amount,
                "value_date": c.value_date,
                "reference": c.reference,
                "status": c.status,
                "status_name": rules.CREDIT_STATES.get(c.status, c.status),
                "note": c.note,
            }
            for c in uow.collection.open_credits(limit=500)
        ]


def _load(uow: UnitOfWork, actor: Principal, remittance_id: int, *, for_update: bool = False):
    header = uow.collection.get(remittance_id, for_update=for_update)
    if header is None:
        raise NotFound("汇缴单不存在")
    unit = load_in_scope(uow, actor, header.unit_id)
    return header, unit


def _view(header: Remittance, unit: Unit) -> RemittanceView:
    return RemittanceView(
        header.id,
        header.remittance_no,
        unit.id,
        unit.unit_no,
        unit.name,
        header.kind,
        rules.KINDS[header.kind],
        header.month,
        header.month_to,
        header.reason,
        header.source,
        header.status,
        rules.STATES.get(header.status, header.status),
        header.people,
        Decimal(header.unit_total),
        Decimal(header.person_total),
        Decimal(header.total),
        matching.reference_for(header.remittance_no),
        header.credited_on,
        header.posted_on,
        header.voucher_id,
        header.reversal_voucher_id,
        header.reversal_reason,
        header.created_by,
        header.created_at,
    )
