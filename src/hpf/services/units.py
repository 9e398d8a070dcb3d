"""单位缴存登记: open, change, defer (maker-checker), resume, seal, unseal and close employers.

Every operation checks the permission, the data scope (the unit's managing branch), the
unit state machine (domain.accounts) and the dated bounds in force on the business date
(domain.contribution), then writes the unit and its audit record in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from hpf.crypto import masking
from hpf.domain import accounts as states
from hpf.domain.contribution import ContributionRules, base_cap, check_ratio
from hpf.domain.errors import Conflict, NotFound, ValidationFailed
from hpf.domain.identity_codes import check_credit_code
from hpf.repositories.models import Unit
from hpf.repositories.uow import UnitOfWork
from hpf.services import approvals, audit, params
from hpf.services.access import Principal

CHANGEABLE = ("name", "contact_name", "contact_phone", "bank_name", "bank_account", "deposit_day")
SECRET_FIELDS = ("contact_phone", "bank_account")  # audited by name, never by value


@dataclass(frozen=True)
class UnitView:
    id: int
    unit_no: str
    credit_code: str
    name: str
    org_id: int
    org_name: str
    status: str
    status_name: str
    unit_ratio: Decimal
    person_ratio: Decimal
    deposit_day: int
    bank_name: str
    bank_account: str  # masked
    contact_name: str
    contact_phone: str  # masked
    paid_up_to: str | None
    opened_on: date
    closed_on: date | None
    staff_count: int
    operations: list[str]


@dataclass(frozen=True)
class UnitPage:
    items: list[UnitView]
    total: int
    page: int
    per_page: int


@dataclass(frozen=True)
class NewUnit:
    """单位开户 command (the business date travels with it)."""

    credit_code: str
    name: str
    org_id: int
    unit_ratio: Decimal
    person_ratio: Decimal
    deposit_day: int
    bank_name: str
    bank_account: str
    contact_name: str
    contact_phone: str
    on: date


def contribution_rules(uow: UnitOfWork, on: date) -> ContributionRules:
    """The ratio band and base floor/cap in force on ``on`` (dated parameters)."""
    def value(code: str):
        return params.value_on(uow, code, on)

    cap = base_cap(value("deposit.city_avg_wage"), value("deposit.base.cap_multiple"))
    return ContributionRules(value("deposit.ratio.min"), value("deposit.ratio.max"),
                             value("deposit.base.floor"), cap, value("deposit.rounding_unit"),
                             value("deposit.rounding_mode"))


def number_prefix(uow: UnitOfWork) -> str:
    """The centre's 6-digit prefix of unit and account numbers (its region code)."""
    centre = next((o for o in uow.orgs.all() if o.parent_id is None), None)
    prefix = (centre.region_code or centre.code) if centre else ""
    return prefix[:6]


def open_unit(uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, cmd: NewUnit) -> UnitView:
    """单位开户: register an employer under a managing branch within the actor's scope."""
    actor.require("unit:open")
    credit_code = check_credit_code(cmd.credit_code)
    _check_text(cmd)
    number = uow.database.adapter.allocate("unit_no_seq")[0]  # own transaction: gaps allowed
    with uow:
        org = uow.orgs.get(cmd.org_id)
        if org is None or org.kind != "branch" or not org.active:
            raise ValidationFailed("管理机构应为在用的分中心/管理部",
                                   details={"org_id": ["管理机构应为在用的分中心/管理部"]})
        actor.require_scope(org.id)
        rules = contribution_rules(uow, cmd.on)
        check_ratio(cmd.unit_ratio, rules, "unit_ratio")
        check_ratio(cmd.person_ratio, rules, "person_ratio")
        existing = uow.units.by_credit_code(credit_code)
        if existing is not None:
            message = f"该统一社会信用代码已登记（单位账号 {existing.unit_no}）"
            raise Conflict(message, code="duplicate", details={"credit_code": [message]})
        unit = uow.units.add(Unit(
            unit_no=f"{number_prefix(uow)}{number:08d}", credit_code=credit_code, name=cmd.name.strip(),
            org_id=org.id, status=states.UNIT_INITIAL, unit_ratio=cmd.unit_ratio,
            person_ratio=cmd.person_ratio, deposit_day=cmd.deposit_day, bank_name=cmd.bank_name.strip(),
            bank_account=cmd.bank_account.strip(), contact_name=cmd.contact_name.strip(),
            contact_phone=cmd.contact_phone.strip(), opened_on=cmd.on, created_at=now))
        audit.record(uow, actor.who(who), "unit.open", target=f"unit:{unit.unit_no}",
                     summary=f"{unit.name} 统一社会信用代码={credit_code} 管理机构={org.code} "
                             f"比例={unit.unit_ratio}/{unit.person_ratio}", now=now)
        view = _view(uow, unit)
        uow.commit()
    return view


def list_units(uow: UnitOfWork, actor: Principal, *, q: str = "", page: int = 1,
               per_page: int = 20) -> UnitPage:
    """本人数据范围内的单位，按名称包含、统一社会信用代码或单位账号查找."""
    actor.require("unit:view")
    with uow:
        rows, total = uow.units.search(actor.scope.org_ids, q.strip(), (page - 1) * per_page, per_page)
        return UnitPage([_view(uow, u) for u in rows], total, page, per_page)


def get_unit(uow: UnitOfWork, actor: Principal, unit_id: int) -> UnitView:
    """One unit: 404 when missing, 403 out of scope."""
    actor.require("unit:view")
    with uow:
        return _view(uow, load_in_scope(uow, actor, unit_id))


def change_unit(uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, unit_id: int,
                changes: dict) -> UnitView:
    """单位信息变更 (name, contact, bank, deposit day) and 比例调整 within the dated band."""
    actor.require("unit:change")
    with uow:
        unit = load_in_scope(uow, actor, unit_id, for_update=True)
        states.check_operation(states.UNIT, unit.status, "change")
        on = changes.pop("on")
        ratios = {k: changes.pop(k) for k in ("unit_ratio", "person_ratio") if changes.get(k) is not None}
        if ratios:
            states.check_operation(states.UNIT, unit.status, "adjust")
            rules = contribution_rules(uow, on)
            for field, value in ratios.items():
                check_ratio(value, rules, field)
        done = []
        for field, value in {**changes, **ratios}.items():
            if value is None or getattr(unit, field) == value:
                continue
            if field in SECRET_FIELDS:
                done.append(field)
            elif field in ratios:
                done.append(f"{field}: {getattr(unit, field)} → {value}")
            else:
                done.append(f"{field}={value}")
            setattr(unit, field, value.strip() if isinstance(value, str) else value)
        if not done:
            raise ValidationFailed("没有需要变更的内容", details={"_schema": ["没有需要变更的内容"]})
        audit.record(uow, actor.who(who), "unit.change", target=f"unit:{unit.unit_no}",
                     summary="；".join(done)[:500], now=now)
        view = _view(uow, unit)
        uow.commit()
    return view


def request_deferral(uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, unit_id: int,
                     reason: str) -> approvals.Submitted:
    """缓缴申请: held for a checker with unit:defer (条例 art. 20), applied when approved."""
    actor.require("unit:change")
    with uow:
        unit = load_in_scope(uow, actor, unit_id)
        states.check_operation(states.UNIT, unit.status, "defer")
        org_id, label = unit.org_id, f"{unit.name}（{unit.unit_no}）"
    return approvals.submit(uow, actor, who, now, "unit.defer", {"unit_id": unit_id, "reason": reason},
                            summary=f"{label} 申请缓缴：{reason}", org_id=org_id)


def _apply_deferral(ctx: approvals.Context, payload: dict) -> str:
    unit = ctx.uow.units.get(int(payload["unit_id"]), for_update=True)
    if unit is None:
        raise NotFound("单位不存在")
    unit.status = states.next_state(states.UNIT, unit.status, "defer")
    ctx.uow.session.flush()
    summary = f"缓缴：{payload.get('reason', '')}（经办 {ctx.maker}，复核 {ctx.checker or '-'}）"
    audit.record(ctx.uow, ctx.who, "unit.defer", target=f"unit:{unit.unit_no}", summary=summary[:500],
                 now=ctx.now)
    return f"单位 {unit.unit_no} 已缓缴"


approvals.register("unit.defer", "单位缓缴", _apply_deferral, maker_permission="unit:change")


def resume_unit(uow, actor, who, now, unit_id: int) -> UnitView:
    """缓缴结束: 03 → 01."""
    return _transition(uow, actor, who, now, unit_id, "resume", "unit:change")


def seal_unit(uow, actor, who, now, unit_id: int) -> UnitView:
    """单位封存: 01 → 05."""
    return _transition(uow, actor, who, now, unit_id, "seal", "unit:change")


def unseal_unit(uow, actor, who, now, unit_id: int) -> UnitView:
    """单位启封: 05 → 01."""
    return _transition(uow, actor, who, now, unit_id, "unseal", "unit:change")


def close_unit(uow, actor, who, now, unit_id: int, on: date) -> UnitView:
    """单位销户 on business date ``on``: only with no staff accounts left (正常/冻结), zero balance."""
    return _transition(uow, actor, who, now, unit_id, "close", "unit:close", on)


def _transition(uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime, unit_id: int,
                operation: str, permission: str, on: date | None = None) -> UnitView:
    actor.require(permission)
    with uow:
        unit = load_in_scope(uow, actor, unit_id, for_update=True)
        target = states.next_state(states.UNIT, unit.status, operation)
        if operation == "close":
            states.check_unit_close(*uow.units.staff(unit.id))
            unit.closed_on = on
        before, unit.status = unit.status, target
        audit.record(uow, actor.who(who), f"unit.{operation}", target=f"unit:{unit.unit_no}",
                     summary=f"{states.UNIT_STATES[before]} → {states.UNIT_STATES[target]}", now=now)
        view = _view(uow, unit)
        uow.commit()
    return view


def load_in_scope(uow: UnitOfWork, actor: Principal, unit_id: int, *, for_update: bool = False) -> Unit:
    unit = uow.units.get(unit_id, for_update=for_update)
    if unit is None:
        raise NotFound("单位不存在")
    actor.require_scope(unit.org_id)
    return unit


def _check_text(cmd: NewUnit) -> None:
    problems = {f: ["必填项"] for f in ("name", "bank_name", "bank_account", "contact_name", "contact_phone")
                if not str(getattr(cmd, f) or "").strip()}
    if not 1 <= cmd.deposit_day <= 28:
        problems["deposit_day"] = ["缴存日应在 1 至 28 之间"]
    if problems:
        raise ValidationFailed("单位开户信息不完整或有误", details=problems)


def _view(uow: UnitOfWork, unit: Unit) -> UnitView:
    org = uow.orgs.get(unit.org_id)
    staff, _balance = uow.units.staff(unit.id)
    return UnitView(
        unit.id, unit.unit_no, unit.credit_code, unit.name, unit.org_id, org.name if org else "",
        unit.status, states.UNIT_STATES[unit.status], unit.unit_ratio, unit.person_ratio, unit.deposit_day,
        unit.bank_name, masking.mask_bank_card(unit.bank_account), unit.contact_name,
        masking.mask_phone(unit.contact_phone), unit.paid_up_to, unit.opened_on, unit.closed_on, staff,
        states.allowed_operations(states.UNIT, unit.status))
