"""Business parameters (业务参数): read the value in force on a date, add a dated value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from hpf.domain.calendar import BUSINESS_TZ
from hpf.domain.errors import NotFound
from hpf.domain.params import (
    DatedValue,
    ParamSpec,
    Period,
    check_new_value,
    parse_value,
    timeline,
    value_in_force,
)
from hpf.repositories.uow import UnitOfWork
from hpf.services import approvals, audit


class UnknownParameter(NotFound):
    code = "unknown_parameter"
    message = "参数不存在"


class ParameterNotInForce(NotFound):
    code = "parameter_not_in_force"
    message = "该日期没有生效的参数值"


@dataclass(frozen=True)
class ParamView:
    spec: ParamSpec
    on: date
    current: DatedValue | None
    history: list[Period]


@dataclass(frozen=True)
class NewParamValue:
    code: str
    value: str
    effective_from: date
    source: str
    actor: str


def list_params(uow: UnitOfWork, on: date) -> list[ParamView]:
    """Every parameter with the value in force on ``on``."""
    with uow:
        values = uow.params.all_values()
        return [_view(spec, values.get(spec.code, []), on) for spec in uow.params.specs()]


def get_param(uow: UnitOfWork, code: str, on: date) -> ParamView:
    with uow:
        return _view(_spec(uow, code), uow.params.values(code), on)


def value_on(uow: UnitOfWork, code: str, on: date) -> Decimal | int | str | date:
    """The typed value of ``code`` in force on ``on``, for use inside a service's transaction."""
    spec = _spec(uow, code)
    found = value_in_force(uow.params.values(code), on)
    if found is None:
        raise ParameterNotInForce(f"参数 {spec.name} 在 {on.isoformat()} 没有生效的取值")
    return parse_value(spec, found.value)


def value_on_date(uow: UnitOfWork, code: str, on: date) -> Decimal | int | str | date:
    """``value_on`` in a transaction of its own (for jobs and read paths)."""
    with uow:
        return value_on(uow, code, on)


def add_value(uow: UnitOfWork, cmd: NewParamValue, today: date, who: audit.Who | None = None) -> ParamView:
    """Add a value taking effect on ``cmd.effective_from`` (today or later)."""
    with uow:
        view = _add(uow, cmd, today, who or audit.Who.system("params"))
        uow.commit()
    return view


def _add(uow: UnitOfWork, cmd: NewParamValue, today: date, who: audit.Who) -> ParamView:
    spec = _spec(uow, cmd.code)
    uow.params.lock_spec(cmd.code)
    existing = uow.params.values(cmd.code)
    text = check_new_value(spec, cmd.value, cmd.effective_from, today, existing)
    uow.params.add_value(cmd.code, DatedValue(text, cmd.effective_from, cmd.source), cmd.actor)
    audit.record(uow, who, "param.value.add", target=f"param:{cmd.code}",
                 summary=f"value={text} effective_from={cmd.effective_from.isoformat()} source={cmd.source}")
    return _view(spec, uow.params.values(cmd.code), today)


def check_value(uow: UnitOfWork, cmd: NewParamValue, today: date) -> str:
    """The value as it would be stored, or ValidationFailed: checked before a change waits
    for its checker, and again when it is applied."""
    with uow:
        spec = _spec(uow, cmd.code)
        return check_new_value(spec, cmd.value, cmd.effective_from, today, uow.params.values(cmd.code))


def _apply_change(ctx: approvals.Context, payload: dict) -> str:
    """Maker-checker operation ``param.change``: the maker is recorded as the value's author."""
    cmd = NewParamValue(payload["code"], payload["value"], date.fromisoformat(payload["effective_from"]),
                        payload.get("source", ""), f"{ctx.maker}/{ctx.checker}" if ctx.checker else ctx.maker)
    today = ctx.now.astimezone(BUSINESS_TZ).date()
    view = _add(ctx.uow, cmd, today, ctx.who)
    return f"{view.spec.name} 自 {cmd.effective_from.isoformat()} 起取值 {payload['value']}"


approvals.register("param.change", "业务参数调整", _apply_change, maker_permission="param:edit")


def _spec(uow: UnitOfWork, code: str) -> ParamSpec:
    spec = uow.params.spec(code)
    if spec is None:
        raise UnknownParameter(f"参数 {code} 不存在")
    return spec


def _view(spec: ParamSpec, values: list[DatedValue], on: date) -> ParamView:
    return ParamView(spec, on, value_in_force(values, on), timeline(values))
