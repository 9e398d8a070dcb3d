"""汇缴管理 (归集业务): 汇缴单 and 补缴单 — list, 生成, 清册导入 (row-by-row errors and their Excel
report), 模拟银行转账, 匹配到账, 入账, 作废, 错缴更正申请; 银行到账 fetched and listed. The rules and
the permission checks live in services.remittance; these views parse, call it and render."""

from __future__ import annotations

import contextlib
import re
import secrets
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

from flask import current_app, flash, redirect, render_template, request, send_file, session, url_for

from hpf.controllers import deps
from hpf.controllers.api.remittances import XLSX, bank
from hpf.controllers.console.accounts import as_unit_no, unit_by_number
from hpf.controllers.console.common import CORRECTABLE, bp, int_arg, now, page_number, refused, safe_next
from hpf.domain import remittance as rules
from hpf.domain.errors import NotFound, ValidationFailed
from hpf.domain.remittance_list import ListRejected
from hpf.services import remittance, units
from hpf.services.remittance_files import error_report_xlsx, template_xlsx

PER_PAGE = 20
LINES_PER_PAGE = 100
UNIT_CHOICES = 100
STATUS_TAGS = {"01": "warn", "02": "info", "03": "ok", "04": "danger", "05": "muted"}
CREDIT_TAGS = {"0": "info", "2": "warn", "3": "danger"}
MONTH = re.compile(r"\d{6}")
REPORT_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
REPORTS_KEY = "remittance_reports"  # the session keeps the tokens of this user's reports
REPORTS_KEPT = 5
REPORT_MAX_AGE = 24 * 3600  # seconds


def status_tag(status: str) -> str:
    return STATUS_TAGS.get(status, "muted")


def unit_choices() -> list:
    """Units in scope that may still pay (汇缴 or 补缴), as suggestions for the 单位账号 field."""
    found = units.list_units(deps.uow(), deps.actor(), per_page=UNIT_CHOICES)
    return [u for u in found.items if u.status in rules.UNIT_CAN_BACK_PAY]


def month_input(raw: str | None, field: str, errors: dict[str, list[str]]) -> str:
    """YYYYMM (YYYY-MM accepted); "" when blank, an error on ``field`` when malformed."""
    text = (raw or "").strip().replace("-", "")
    if text and not MONTH.fullmatch(text):
        errors[field] = ["请按 YYYYMM 填写年月，如 202506"]
    return text


def _args():
    return deps.uow(), deps.actor(), deps.who(), now()


# ---------------------------------------------------------------- 汇缴单查询与批量入账

@bp.get("/remittances")
@deps.requires("unit:view")
def remittances_list():
    """汇缴管理: the remittances in scope, by unit, month and status; 已到账 ones can be posted."""
    args, errors = request.args, {}
    unit_no = args.get("unit_no", "").strip()[:20]
    unit_id = unit_by_number(unit_no, errors) if unit_no else int_arg(args.get("unit_id"))
    month = month_input(args.get("month"), "month", errors)
    status = args.get("status", "") if args.get("status") in rules.STATES else ""
    found = None
    if errors:
        refused(ValidationFailed("查询条件有误", details=errors))
    else:
        found = remittance.list_remittances(deps.uow(), deps.actor(), unit_id=unit_id, month=month or None,
                                            status=status or None, page=page_number(), per_page=PER_PAGE)
    return render_template("remittances/list.html", found=found, errors=errors, choices=unit_choices(),
                           filters={"unit_no": unit_no, "month": month, "status": status},
                           states=rules.STATES, status_tag=status_tag)


@bp.post("/remittances/post")
@deps.requires("remittance:post")
def remittances_post():
    """入账: the chosen 已到账 remittances, all or none (the service posts them in one transaction)."""
    ids = [i for i in (int_arg(v) for v in request.form.getlist("remittance_ids")) if i is not None]
    back = safe_next(request.form.get("next") or url_for("console.remittances_list"))
    try:
        done = remittance.post(*_args(), ids)
    except CORRECTABLE as exc:
        refused(exc)
        return redirect(back)
    flash(f"已入账 {done.remittances} 张汇缴单，{done.lines} 笔个人明细，合计 {done.total:,.2f} 元；"
          f"记账凭证 {'、'.join(done.vouchers)}", "success")
    return redirect(back)


# ---------------------------------------------------------------- 生成与导入

def _form_page(template: str, errors, form, status=200, **extra):
    kind = form.get("kind") if form.get("kind") in rules.KINDS else rules.REMITTANCE
    switch = "console.remittances_new" if template == "new" else "console.remittances_import_form"
    return render_template(f"remittances/{template}.html", errors=errors, form=form, kind=kind,
                           kinds=rules.KINDS, choices=unit_choices(), switch=switch, **extra), status


def _initial() -> dict:
    initial = {k: request.args.get(k, "") for k in ("unit_no", "kind")}
    return {**initial, "month": deps.today().strftime("%Y%m")}


def _listing(form, errors: dict[str, list[str]]) -> dict:
    """The unit, months, kind and reason of a new remittance, as the service takes them."""
    kind = form.get("kind") if form.get("kind") in rules.KINDS else rules.REMITTANCE
    unit_id = unit_by_number(form.get("unit_no"), errors)
    month = month_input(form.get("month"), "month", errors)
    if not month:
        errors["month"] = ["请填写缴存年月（YYYYMM）"]
    back_pay = kind == rules.BACK_PAYMENT
    month_to = month_input(form.get("month_to"), "month_to", errors) if back_pay else ""
    reason = form.get("reason", "").strip() if back_pay else ""
    return {"unit_id": unit_id, "month": month, "kind": kind, "month_to": month_to or None,
            "reason": reason or None}


def _listed(view) -> str:
    return (f"已生成{view.kind_name}单 {view.remittance_no}：{view.people} 人，合计 {view.total:,.2f} 元。"
            f"请单位转账时在附言中填写“{view.payment_reference}”")


@bp.get("/remittances/new")
@deps.requires("remittance:entry")
def remittances_new():
    return _form_page("new", {}, _initial())


@bp.post("/remittances")
@deps.requires("remittance:entry")
def remittances_create():
    """生成汇缴单 (or 补缴单) from the unit's roster."""
    errors: dict[str, list[str]] = {}
    listing = _listing(request.form, errors)
    if errors:
        return _form_page("new", refused(ValidationFailed("汇缴单信息不完整或有误", details=errors)),
                          request.form, 422)
    try:
        view = remittance.create(*_args(), listing.pop("unit_id"), listing.pop("month"), **listing)
    except CORRECTABLE as exc:
        return _form_page("new", as_unit_no(refused(exc)), request.form, exc.status)
    flash(_listed(view), "success")
    return redirect(url_for("console.remittances_detail", remittance_id=view.id))


@bp.get("/remittances/import")
@deps.requires("remittance:entry")
def remittances_import_form():
    return _form_page("import", {}, _initial())


@bp.post("/remittances/import")
@deps.requires("remittance:entry")
def remittances_import():
    """清册导入: any bad row and nothing is listed; the rows are shown and kept as an Excel report."""
    errors: dict[str, list[str]] = {}
    listing = _listing(request.form, errors)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        errors["file"] = ["请选择要导入的清册文件（.xlsx 或 .csv）"]
    if errors:
        return _form_page("import", refused(ValidationFailed("导入信息不完整或有误", details=errors)),
                          request.form, 422)
    try:
        view = remittance.import_list(*_args(), listing.pop("unit_id"), listing.pop("month"), upload.filename,
                                      upload.read(), **listing)
    except ListRejected as exc:  # bad rows, or a header that is not the template's: nothing listed
        flash(exc.message, "error")
        token = _keep_report(error_report_xlsx(exc.errors, title="缴存清册错误报告"))
        return _form_page("import", {}, request.form, exc.status, row_errors=exc.errors, report=token)
    except CORRECTABLE as exc:
        return _form_page("import", as_unit_no(refused(exc)), request.form, exc.status)
    flash(_listed(view), "success")
    return redirect(url_for("console.remittances_detail", remittance_id=view.id))


@bp.get("/remittances/import/template")
@deps.requires("remittance:entry")
def remittances_template():
    """下载缴存清册模板."""
    return current_app.response_class(template_xlsx(), mimetype=XLSX, headers={
        "Content-Disposition": "attachment; filename=remittance-template.xlsx"})


def _reports() -> Path:
    folder = Path(current_app.instance_path) / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _keep_report(data: bytes) -> str:
    """Keep a report for this user (the browser cannot send the file again); files older than a
    day are removed first."""
    folder, cutoff = _reports(), time.time() - REPORT_MAX_AGE
    for old in folder.glob("*.xlsx"):
        with contextlib.suppress(OSError):  # a concurrent request may have removed it already
            if old.stat().st_mtime < cutoff:
                old.unlink()
    token = secrets.token_urlsafe(24)
    (folder / f"{token}.xlsx").write_bytes(data)
    session[REPORTS_KEY] = [*session.get(REPORTS_KEY, [])[-(REPORTS_KEPT - 1):], token]
    return token


@bp.get("/remittances/import/report/<token>")
@deps.requires("remittance:entry")
def remittances_report(token: str):
    """下载错误报告: only the user whose import produced it, within a day."""
    path = _reports() / f"{token}.xlsx"
    if not REPORT_TOKEN.fullmatch(token) or token not in session.get(REPORTS_KEY, []) or not path.is_file():
        raise NotFound("错误报告不存在或已过期，请重新导入清册")
    return send_file(path, mimetype=XLSX, as_attachment=True, download_name="缴存清册错误报告.xlsx")


# ---------------------------------------------------------------- 详情与业务

def _simulated() -> bool:
    return hasattr(bank(), "pay")


def _detail_page(remittance_id: int, errors=None, form=None, status=200):
    me = deps.actor()
    view = remittance.get(deps.uow(), me, remittance_id)
    page = page_number()
    items, people = remittance.lines(deps.uow(), me, remittance_id, page, LINES_PER_PAGE)
    listed = view.status == rules.LISTED
    credits = remittance.open_credits(deps.uow(), me) if listed and me.can("remittance:post") else []
    credits.sort(key=lambda c: Decimal(str(c["amount"])) != view.total)  # the right amount first
    return render_template("remittances/detail.html", row=view, items=items, people=people, page=page,
                           per_page=LINES_PER_PAGE, credits=credits, errors=errors or {}, form=form or {},
                           simulated=listed and me.can("remittance:entry") and _simulated(),
                           status_tag=status_tag(view.status)), status


@bp.get("/remittances/<int:remittance_id>")
@deps.requires("unit:view")
def remittances_detail(remittance_id: int):
    """汇缴单详情: the facts, the lines, and what its state and the actor's permissions allow."""
    return _detail_page(remittance_id)


def _act(remittance_id: int, call, done):
    try:
        result = call()
    except CORRECTABLE as exc:
        return _detail_page(remittance_id, as_unit_no(refused(exc)), request.form, exc.status)
    flash(done(result), "success")
    return redirect(url_for("console.remittances_detail", remittance_id=remittance_id))


@bp.post("/remittances/<int:remittance_id>/cancel")
@deps.requires("remittance:entry")
def remittances_cancel(remittance_id: int):
    return _act(remittance_id, lambda: remittance.cancel(*_args(), remittance_id),
                lambda v: f"汇缴单 {v.remittance_no} 已作废，该月可重新生成")


@bp.post("/remittances/<int:remittance_id>/match")
@deps.requires("remittance:post")
def remittances_match(remittance_id: int):
    """匹配到账 by hand: the credit's amount must equal the remittance's to the fen."""
    credit_id = int_arg(request.form.get("credit_id"))
    if credit_id is None:
        failed = ValidationFailed("请选择到账记录", details={"credit_id": ["请选择一笔到账"]})
        return _detail_page(remittance_id, refused(failed), request.form, 422)
    return _act(remittance_id, lambda: remittance.match_by_hand(*_args(), remittance_id, credit_id),
                lambda v: f"已匹配到账，汇缴单 {v.remittance_no} 状态为“{v.status_name}”，可以入账")


@bp.post("/remittances/<int:remittance_id>/reversal")
@deps.requires("remittance:reverse")
def remittances_reverse(remittance_id: int):
    """错缴更正申请: applied when a reviewer approves it (maker-checker)."""
    reason = request.form.get("reason", "")
    return _act(remittance_id, lambda: remittance.request_reversal(*_args(), remittance_id, reason),
                lambda done: f"错缴更正申请已提交，待复核（复核单 {done.request.id}）" if done.request
                else (done.outcome or "错缴更正已完成"))


def _simulation(form, errors: dict[str, list[str]]) -> tuple[int, Decimal]:
    delay = int_arg(form.get("delay_days", "0") or "0")
    if delay is None or not 0 <= delay <= 30:
        errors["delay_days"] = ["请输入 0 至 30 之间的整数"]
    text = (form.get("amount_error") or "0").strip().replace(",", "")
    try:
        gap = Decimal(text)
    except InvalidOperation:
        gap = Decimal(0)
        errors["amount_error"] = ["请输入金额（元），如 -0.01"]
    if gap.is_finite() and gap != gap.quantize(Decimal("0.01")):
        errors["amount_error"] = ["金额最多保留两位小数"]
    return delay or 0, gap


@bp.post("/remittances/<int:remittance_id>/simulate")
@deps.requires("remittance:entry")
def remittances_simulate(remittance_id: int):
    """模拟银行转账: the unit pays at the simulated bank, as the API's simulate_payment does."""
    simulator = bank()
    if not hasattr(simulator, "pay"):
        raise NotFound("当前未使用模拟银行")
    errors: dict[str, list[str]] = {}
    delay, gap = _simulation(request.form, errors)
    view = remittance.get(deps.uow(), deps.actor(), remittance_id)
    if view.status != rules.LISTED:
        errors["delay_days"] = [f"汇缴单状态为“{view.status_name}”，无需转账"]
    if errors:
        failed = ValidationFailed("模拟转账信息有误", details=errors)
        return _detail_page(remittance_id, refused(failed), request.form, 422)
    try:
        simulator.pay(view.unit_no, view.unit_name, view.total, view.payment_reference,
                      deps.state().clock.today(), delay_days=delay, amount_error=gap)
    except CORRECTABLE as exc:  # e.g. a credited amount of zero or less
        return _detail_page(remittance_id, refused(exc), request.form, exc.status)
    when = "今日" if delay == 0 else f"{delay} 天后"
    flash(f"已在模拟银行登记单位转账 {view.total + gap:,.2f} 元（附言“{view.payment_reference}”），"
          f"{when}到账；请在“银行到账”页获取银行到账后自动匹配", "success")
    return redirect(url_for("console.remittances_detail", remittance_id=remittance_id))


# ---------------------------------------------------------------- 银行到账

@bp.get("/remittances/credits")
@deps.requires("remittance:post")
def credits_list():
    """银行到账: credits not matched to a remittance (未匹配、金额不符、无法识别), with the reason."""
    return render_template("remittances/credits.html", rows=remittance.open_credits(deps.uow(), deps.actor()),
                           tags=CREDIT_TAGS, simulated=_simulated())


@bp.post("/remittances/credits/fetch")
@deps.requires("remittance:post")
def credits_fetch():
    """获取银行到账 and match them by the remittance number in the 附言 and the exact amount."""
    found, _cursor = bank().credits_since(None)
    result = remittance.receive_credits(deps.uow(), deps.actor(), deps.who(), now(), found)
    flash(f"获取银行到账：新到账 {result.received} 笔，自动匹配 {result.matched} 笔，"
          f"金额不符 {result.wrong_amount} 笔，无法识别 {result.unknown} 笔", "success")
    return redirect(url_for("console.credits_list"))
