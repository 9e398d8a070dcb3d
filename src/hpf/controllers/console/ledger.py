"""会计核算: 凭证查询 (vouchers by date, business type and subject), one voucher with its lines,
试算平衡表 as of a business day, and 年度结息 (the annual interest settlement, re-runnable)."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for

from hpf.controllers import deps
from hpf.controllers.console.common import CORRECTABLE, bp, int_arg, now, page_number, parse_date, refused
from hpf.domain import ledger as books
from hpf.domain.errors import ValidationFailed
from hpf.services import interest, ledger, statements

PER_PAGE = 20
SUBJECTS = {s.code: s for s in books.CHART}


def _depth(code: str) -> int:
    subject = SUBJECTS.get(code)
    return 1 if subject is not None and subject.parent else 0


# ---------------------------------------------------------------- 凭证查询

@bp.get("/ledger/vouchers")
@deps.requires("ledger:view")
def vouchers_list():
    """凭证查询: by business date range, business type and subject, newest first."""
    args, errors, filters = request.args, {}, {}
    for name in ("date_from", "date_to"):
        raw = args.get(name, "").strip()
        if raw and (value := parse_date(raw)) is None:
            errors[name] = ["日期格式应为 YYYY-MM-DD"]
        elif raw:
            filters[name] = value
    if filters.get("date_from") and filters.get("date_to") and filters["date_from"] > filters["date_to"]:
        errors["date_to"] = ["截止日期不能早于起始日期"]
    for name, choices in (("business_type", statements.BUSINESS_TYPES), ("subject", SUBJECTS)):
        raw = args.get(name, "").strip()
        if raw and raw not in choices:
            errors[name] = ["取值无效"]
        elif raw:
            filters[name] = raw
    found = None
    if errors:
        refused(ValidationFailed("查询条件有误", details=errors))
    else:
        found = ledger.list_vouchers(deps.uow(), deps.actor(), page=page_number(), per_page=PER_PAGE,
                                     **filters)
    return render_template("ledger/vouchers.html", found=found, form=args, errors=errors,
                           types=statements.BUSINESS_TYPES, subjects=books.CHART,
                           depth=_depth), 422 if errors else 200


@bp.get("/ledger/vouchers/<int:voucher_id>")
@deps.requires("ledger:view")
def vouchers_detail(voucher_id: int):
    """One voucher: its lines with subject names, the units and accounts named, reversal links."""
    me = deps.actor()
    voucher = ledger.get_voucher(deps.uow(), me, voucher_id)
    units, accounts = statements.parties(deps.uow(), me, [e.unit_id for e in voucher.lines if e.unit_id],
                                         [e.account_id for e in voucher.lines if e.account_id])
    original = ledger.get_voucher(deps.uow(), me, voucher.reversal_of_id) if voucher.reversal_of_id else None
    reversal = ledger.get_voucher(deps.uow(), me, voucher.reversed_by_id) if voucher.reversed_by_id else None
    debit = sum((e.debit for e in voucher.lines), books.ZERO)
    credit = sum((e.credit for e in voucher.lines), books.ZERO)
    return render_template("ledger/voucher.html", v=voucher, units=units, accounts=accounts,
                           original=original, reversal=reversal, debit=debit, credit=credit,
                           types=statements.BUSINESS_TYPES)


# ---------------------------------------------------------------- 试算平衡表

@bp.get("/ledger/trial-balance")
@deps.requires("ledger:view")
def trial_balance():
    """试算平衡表 as of a business day (default today): parents indented above their children."""
    raw = request.args.get("date", "").strip()
    on = parse_date(raw) if raw else deps.today()
    errors = {}
    if on is None:
        message = "日期格式应为 YYYY-MM-DD"
        errors = refused(ValidationFailed(message, details={"date": [message]}))
        on = deps.today()
    result = ledger.trial_balance(deps.uow(), deps.actor(), on)
    return render_template("ledger/trial_balance.html", tb=result, errors=errors, depth=_depth,
                           form=request.args), 422 if errors else 200


# ---------------------------------------------------------------- 年度结息

def last_interest_year(today: date) -> int:
    """The latest interest year whose 30 June has passed (结息日 is 30 June)."""
    return today.year if today > date(today.year, 6, 30) else today.year - 1


def _interest_page(errors=None, form=None, status=200):
    form = form or {"interest_year": request.args.get("year") or str(last_interest_year(deps.today()))}
    return render_template("ledger/interest.html", errors=errors or {}, form=form), status


@bp.get("/interest")
@deps.requires("ledger:post")
def interest_form():
    """年度结息: the form (the result of a run comes back as a message)."""
    return _interest_page()


@bp.post("/interest")
@deps.requires("ledger:post")
def interest_settle():
    """年终结息 of the interest year ending 30 June of the year entered; a second run posts nothing."""
    year = int_arg(request.form.get("interest_year"))
    if year is None or not 1990 <= year <= 2999:
        failed = ValidationFailed("请输入结息年度", details={"interest_year": ["请输入四位年份，如 2025"]})
        return _interest_page(refused(failed), request.form, 422)
    try:
        done = interest.settle_year(deps.uow(), deps.actor(), deps.who(), now(), year)
    except CORRECTABLE as exc:
        return _interest_page(refused(exc), request.form, exc.status)
    period = f"{done.period_start.isoformat()} 至 {done.period_end.isoformat()}"
    facts = f"{done.accounts} 户，利息合计 {done.total:,.2f} 元" + (
        f"，凭证 {done.voucher_no}" if done.voucher_no else "")
    if done.already_settled:
        flash(f"该年度已结息，本次未重复入账（{period}：{facts}）", "info")
    else:
        flash(f"{period} 年度结息完成：{facts}", "success")
    return redirect(url_for("console.interest_form", year=year))
