"""个人账户 (归集业务): find an account by ID number or account number, 开户, 封存, 启封/内部转移,
冻结/解冻, 基数调整. ID numbers are only ever shown masked."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import flash, redirect, render_template, request, url_for

from hpf.controllers import deps
from hpf.controllers.console.common import CORRECTABLE, bp, now, refused
from hpf.controllers.console.units import rules_today
from hpf.domain.errors import ValidationFailed
from hpf.domain.identity_codes import ID_TYPES
from hpf.services import accounts, units

STATUS_TAGS = {"01": "ok", "02": "muted", "06": "danger"}
MOVES = {"unseal": "启封", "transfer": "内部转移"}
UNIT_CHOICES = 100  # suggestions offered for the 单位账号 field


def status_tag(status: str) -> str:
    return STATUS_TAGS.get(status, "muted")


def unit_choices() -> list:
    """Units in scope that may take staff, as suggestions for the 单位账号 field."""
    found = units.list_units(deps.uow(), deps.actor(), per_page=UNIT_CHOICES)
    return [u for u in found.items if "add_staff" in u.operations]


def unit_by_number(raw: str | None, errors: dict[str, list[str]]) -> int | None:
    """The id of the unit with 单位账号 ``raw`` in the actor's scope, or an error on ``unit_no``."""
    unit_no = (raw or "").strip()
    if not unit_no:
        errors["unit_no"] = ["请输入单位账号"]
        return None
    found = units.list_units(deps.uow(), deps.actor(), q=unit_no, per_page=5)
    unit = next((u for u in found.items if u.unit_no == unit_no), None)
    if unit is None:
        errors["unit_no"] = ["本人数据范围内没有该单位账号"]
        return None
    return unit.id


def amount_input(raw: str | None, field: str, errors: dict[str, list[str]]) -> Decimal | None:
    text = (raw or "").strip().replace(",", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        errors[field] = ["请输入金额（元），如 6000.00" if text else "必填项"]
        return None
    if not value.is_finite():
        errors[field] = ["请输入金额（元），如 6000.00"]
        return None
    return value


def as_unit_no(fields: dict[str, list[str]]) -> dict[str, list[str]]:
    """The service names the unit ``unit_id``; the form asks for its number."""
    if "unit_id" in fields:
        fields.setdefault("unit_no", []).extend(fields.pop("unit_id"))
    return fields


# ---------------------------------------------------------------- search

@bp.get("/accounts")
@deps.requires("person:view")
def accounts_list():
    """个人账户查询: by 证件号码 (exact) or 个人账号."""
    id_number = request.args.get("id_number", "").strip()[:32]
    account_no = request.args.get("account_no", "").strip()[:20]
    found, errors = None, {}
    if id_number or account_no:
        try:
            found = accounts.search_accounts(deps.uow(), deps.actor(), id_number=id_number or None,
                                             account_no=account_no or None)
        except ValidationFailed as exc:
            errors = refused(exc)
    return render_template("accounts/list.html", found=found, id_number=id_number, account_no=account_no,
                           errors=errors, status_tag=status_tag)


# ---------------------------------------------------------------- 开户

def _new_page(errors, form, status=200):
    return render_template("accounts/new.html", errors=errors, form=form, id_types=ID_TYPES,
                           choices=unit_choices(), rules=rules_today()), status


@bp.get("/accounts/new")
@deps.requires("account:open")
def accounts_new():
    return _new_page({}, {"id_type": "01", "unit_no": request.args.get("unit_no", "")})


@bp.post("/accounts")
@deps.requires("account:open")
def accounts_create():
    """个人开户: one person, one account; the base within the floor and cap."""
    form = request.form
    errors: dict[str, list[str]] = {}
    unit_id = unit_by_number(form.get("unit_no"), errors)
    base = amount_input(form.get("deposit_base"), "deposit_base", errors)
    if errors:
        return _new_page(refused(ValidationFailed("个人开户信息不完整或有误", details=errors)), form, 422)
    cmd = accounts.NewAccount(name=form.get("name", ""), id_type=form.get("id_type", "01"),
                              id_number=form.get("id_number", ""), unit_id=unit_id, deposit_base=base,
                              on=deps.today(), phone=form.get("phone", "").strip() or None)
    try:
        row = accounts.open_account(deps.uow(), deps.actor(), deps.who(), now(), cmd)
    except CORRECTABLE as exc:
        return _new_page(as_unit_no(refused(exc)), form, exc.status)
    flash(f"已开户：{row.name}，个人账号 {row.account_no}", "success")
    return redirect(url_for("console.accounts_detail", account_id=row.id))


# ---------------------------------------------------------------- 详情与业务

def _detail_page(account_id: int, errors=None, form=None, status=200):
    me = deps.actor()
    row = accounts.get_account(deps.uow(), me, account_id)
    moves = [op for op in MOVES if op in row.operations] if me.can("account:change") else []
    return render_template("accounts/detail.html", row=row, errors=errors or {}, form=form or {},
                           rules=rules_today(), moves={op: MOVES[op] for op in moves},
                           choices=unit_choices() if moves else [], status_tag=status_tag(row.status)), status


@bp.get("/accounts/<int:account_id>")
@deps.requires("person:view")
def accounts_detail(account_id: int):
    """个人账户详情 (证件号码脱敏) and the operations its state and the actor's permissions allow."""
    return _detail_page(account_id)


def _change(account_id: int, done: str, call):
    try:
        call()
    except CORRECTABLE as exc:
        return _detail_page(account_id, as_unit_no(refused(exc)), request.form, exc.status)
    flash(done, "success")
    return redirect(url_for("console.accounts_detail", account_id=account_id))


def _service_args():
    return deps.uow(), deps.actor(), deps.who(), now()


@bp.post("/accounts/<int:account_id>/seal")
@deps.requires("account:change")
def accounts_seal(account_id: int):
    return _change(account_id, "账户已封存", lambda: accounts.seal_account(*_service_args(), account_id))


@bp.post("/accounts/<int:account_id>/move")
@deps.requires("account:change")
def accounts_move(account_id: int):
    """启封 or 内部转移 to a unit in scope, with the base at the new unit."""
    form = request.form
    operation = form.get("operation", "")
    errors: dict[str, list[str]] = {}
    if operation not in MOVES:
        errors["operation"] = ["请选择启封或内部转移"]
    unit_id = unit_by_number(form.get("unit_no"), errors)
    base = amount_input(form.get("deposit_base"), "deposit_base", errors)
    if errors:
        return _detail_page(account_id, refused(ValidationFailed("转入信息有误", details=errors)), form, 422)
    move = {"operation": operation, "unit_id": unit_id, "deposit_base": base, "on": deps.today()}
    return _change(account_id, f"已办理{MOVES[operation]}",
                   lambda: accounts.move_account(*_service_args(), account_id, move))


@bp.post("/accounts/<int:account_id>/freeze")
@deps.requires("account:freeze")
def accounts_freeze(account_id: int):
    return _change(account_id, "账户已冻结", lambda: accounts.freeze_account(*_service_args(), account_id))


@bp.post("/accounts/<int:account_id>/unfreeze")
@deps.requires("account:freeze")
def accounts_unfreeze(account_id: int):
    return _change(account_id, "账户已解冻，恢复冻结前的状态",
                   lambda: accounts.unfreeze_account(*_service_args(), account_id))


@bp.post("/accounts/<int:account_id>/base")
@deps.requires("account:change")
def accounts_base(account_id: int):
    """基数调整 within the floor and cap in force today."""
    errors: dict[str, list[str]] = {}
    base = amount_input(request.form.get("deposit_base"), "deposit_base", errors)
    if errors:
        failed = ValidationFailed("缴存基数有误", details=errors)
        return _detail_page(account_id, refused(failed), request.form, 422)
    return _change(account_id, "缴存基数已调整",
                   lambda: accounts.change_base(*_service_args(), account_id, base, deps.today()))
