"""单位 (归集业务): employers in the actor's data scope — search, 开户, 变更, 缓缴, 封存/启封, 销户."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import flash, redirect, render_template, request, url_for

from hpf.controllers import deps
from hpf.controllers.console.common import CORRECTABLE, bp, int_arg, now, page_number, refused
from hpf.domain.contribution import ContributionRules
from hpf.domain.errors import HpfError, ValidationFailed
from hpf.services import units, users

PER_PAGE = 20
HUNDRED = Decimal(100)
TEXT_FIELDS = ("name", "bank_name", "bank_account", "contact_name", "contact_phone")
RATIO_FIELDS = ("unit_ratio", "person_ratio")
STATUS_TAGS = {"01": "ok", "02": "info", "03": "warn", "04": "muted", "05": "muted"}


@bp.app_template_filter("percent")
def percent(ratio) -> str:
    """0.12 → 12%, 0.075 → 7.5% (a ratio as staff enter it)."""
    if ratio is None or ratio == "":
        return "—"
    value = (Decimal(str(ratio)) * HUNDRED).normalize()
    return f"{value:f}%"


@bp.app_template_filter("money")
def money(amount) -> str:
    return "—" if amount is None or amount == "" else f"{Decimal(str(amount)):,.2f}"


@bp.app_template_filter("yearmonth")
def yearmonth(value) -> str:
    """缴至年月 YYYYMM → YYYY-MM."""
    text = str(value or "")
    return f"{text[:4]}-{text[4:6]}" if len(text) == 6 else (text or "—")


def rules_today() -> ContributionRules | None:
    """The ratio band and base bounds in force today, for the hints (None if not configured)."""
    try:
        with deps.uow() as work:
            return units.contribution_rules(work, deps.today())
    except HpfError:
        return None


def percent_input(raw: str | None, field: str, errors: dict[str, list[str]]) -> Decimal | None:
    """A ratio typed as a percentage (12 or 7.5) as a fraction (0.12, 0.075); None when blank."""
    text = (raw or "").strip().rstrip("%").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        errors[field] = ["请输入百分比数值，如 12"]
        return None
    if not value.is_finite() or value.as_tuple().exponent < -2:
        errors[field] = ["比例最多保留两位小数"]
        return None
    return value / HUNDRED


def branches() -> list:
    """Managing organisations a unit may be opened under: active branches in the actor's scope."""
    return [o for o in users.org_tree(deps.uow(), deps.actor()) if o.kind == "branch" and o.active]


def status_tag(status: str) -> str:
    return STATUS_TAGS.get(status, "muted")


# ---------------------------------------------------------------- search

@bp.get("/units")
@deps.requires("unit:view")
def units_list():
    """单位查询: by name (contains), 统一社会信用代码 or 单位账号."""
    q = request.args.get("q", "").strip()[:100]
    found = units.list_units(deps.uow(), deps.actor(), q=q, page=page_number(), per_page=PER_PAGE)
    return render_template("units/list.html", found=found, q=q, status_tag=status_tag)


# ---------------------------------------------------------------- 开户

def _new_page(errors, form, status=200):
    return render_template("units/new.html", errors=errors, form=form, orgs=branches(),
                           rules=rules_today()), status


@bp.get("/units/new")
@deps.requires("unit:open")
def units_new():
    orgs = branches()
    form = {"deposit_day": "10", "org_id": str(orgs[0].id)} if len(orgs) == 1 else {"deposit_day": "10"}
    return _new_page({}, form)


@bp.post("/units")
@deps.requires("unit:open")
def units_create():
    """单位开户: the service checks the credit code, the scope and the ratio band."""
    form = request.form
    errors: dict[str, list[str]] = {}
    org_id = int_arg(form.get("org_id"))
    if org_id is None:
        errors["org_id"] = ["请选择管理部"]
    ratios = {f: percent_input(form.get(f), f, errors) for f in RATIO_FIELDS}
    for field, value in ratios.items():
        if value is None and field not in errors:
            errors[field] = ["必填项"]
    deposit_day = int_arg(form.get("deposit_day"))
    if deposit_day is None:
        errors["deposit_day"] = ["请输入 1 至 28 之间的整数"]
    if errors:
        return _new_page(refused(ValidationFailed("单位开户信息不完整或有误", details=errors)), form, 422)
    cmd = units.NewUnit(credit_code=form.get("credit_code", ""), org_id=org_id, deposit_day=deposit_day,
                        on=deps.today(), **ratios, **{f: form.get(f, "") for f in TEXT_FIELDS})
    try:
        row = units.open_unit(deps.uow(), deps.actor(), deps.who(), now(), cmd)
    except CORRECTABLE as exc:
        return _new_page(refused(exc), form, exc.status)
    flash(f"已开户：{row.name}，单位账号 {row.unit_no}（状态：开户，首次汇缴后转为正常）", "success")
    return redirect(url_for("console.units_detail", unit_id=row.id))


# ---------------------------------------------------------------- 详情与业务

def _detail_page(unit_id: int, errors=None, form=None, status=200):
    row = units.get_unit(deps.uow(), deps.actor(), unit_id)
    initial = {"name": row.name, "deposit_day": row.deposit_day, "bank_name": row.bank_name,
               "contact_name": row.contact_name, "unit_ratio": percent(row.unit_ratio).rstrip("%"),
               "person_ratio": percent(row.person_ratio).rstrip("%")}
    return render_template("units/detail.html", row=row, errors=errors or {}, form=form or {},
                           initial=initial, rules=rules_today(), status_tag=status_tag(row.status)), status


@bp.get("/units/<int:unit_id>")
@deps.requires("unit:view")
def units_detail(unit_id: int):
    """单位详情: facts and the operations its state and the actor's permissions allow."""
    return _detail_page(unit_id)


def _change(unit_id: int, done: str, call):
    try:
        call()
    except CORRECTABLE as exc:
        return _detail_page(unit_id, refused(exc), request.form, exc.status)
    flash(done, "success")
    return redirect(url_for("console.units_detail", unit_id=unit_id))


def _service_args():
    return deps.uow(), deps.actor(), deps.who(), now()


@bp.post("/units/<int:unit_id>")
@deps.requires("unit:change")
def units_update(unit_id: int):
    """单位信息变更 and 比例调整: only what differs from the record is sent (blank masked fields: kept)."""
    form = request.form
    current = units.get_unit(deps.uow(), deps.actor(), unit_id)
    errors: dict[str, list[str]] = {}
    changes: dict = {}
    for field in TEXT_FIELDS:
        value = form.get(field, "").strip()
        if field in ("bank_account", "contact_phone"):  # shown masked: blank keeps the old value
            if value:
                changes[field] = value
        elif not value:
            errors[field] = ["必填项"]
        elif value != getattr(current, field):
            changes[field] = value
    for field in RATIO_FIELDS:
        value = percent_input(form.get(field), field, errors)
        if value is not None and value != getattr(current, field):
            changes[field] = value
    deposit_day = int_arg(form.get("deposit_day"))
    if deposit_day is None:
        errors["deposit_day"] = ["请输入 1 至 28 之间的整数"]
    elif deposit_day != current.deposit_day:
        changes["deposit_day"] = deposit_day
    if errors:
        failed = ValidationFailed("变更信息有误", details=errors)
        return _detail_page(unit_id, refused(failed), form, 422)
    return _change(unit_id, "单位信息已变更", lambda: units.change_unit(
        *_service_args(), unit_id, {**changes, "on": deps.today()}))


@bp.post("/units/<int:unit_id>/deferral")
@deps.requires("unit:change")
def units_defer(unit_id: int):
    """申请缓缴: held for an approver (maker-checker)."""
    reason = request.form.get("reason", "").strip()
    if len(reason) < 2:
        failed = ValidationFailed("请填写缓缴理由", details={"reason": ["请填写缓缴理由（至少 2 个字）"]})
        return _detail_page(unit_id, refused(failed), request.form, 422)
    try:
        done = units.request_deferral(*_service_args(), unit_id, reason[:200])
    except CORRECTABLE as exc:
        return _detail_page(unit_id, refused(exc), request.form, exc.status)
    if done.request is not None:
        flash(f"缓缴申请已提交，待审批（复核单 {done.request.id}）", "success")
    else:
        flash(done.outcome or "缓缴已生效", "success")
    return redirect(url_for("console.units_detail", unit_id=unit_id))


@bp.post("/units/<int:unit_id>/resume")
@deps.requires("unit:change")
def units_resume(unit_id: int):
    return _change(unit_id, "缓缴已结束，单位恢复正常缴存",
                   lambda: units.resume_unit(*_service_args(), unit_id))


@bp.post("/units/<int:unit_id>/seal")
@deps.requires("unit:change")
def units_seal(unit_id: int):
    return _change(unit_id, "单位已封存", lambda: units.seal_unit(*_service_args(), unit_id))


@bp.post("/units/<int:unit_id>/unseal")
@deps.requires("unit:change")
def units_unseal(unit_id: int):
    return _change(unit_id, "单位已启封", lambda: units.unseal_unit(*_service_args(), unit_id))


@bp.post("/units/<int:unit_id>/close")
@deps.requires("unit:close")
def units_close(unit_id: int):
    """单位销户: refused while staff accounts remain or the balance is not zero."""
    return _change(unit_id, "单位已销户",
                   lambda: units.close_unit(*_service_args(), unit_id, deps.today()))
