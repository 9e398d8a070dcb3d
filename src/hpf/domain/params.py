"""Dated business parameters: which value is in force on a date, and what a valid value is.

A value holds from its ``effective_from`` until the day before the next value's; the end is
derived, never stored, so history cannot disagree with itself. Values are never edited
after they take effect: a calculation for a past date must give the same answer forever.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from hpf.domain.errors import ValidationFailed


@dataclass(frozen=True)
class ParamSpec:
    code: str
    name: str
    value_type: str  # decimal | integer | text | date
    unit: str = ""
    min_value: str | None = None
    max_value: str | None = None
    choices: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class DatedValue:
    value: str
    effective_from: date
    source: str = ""


@dataclass(frozen=True)
class Period:
    value: str
    effective_from: date
    effective_to: date | None  # inclusive; None = open-ended
    source: str


def value_in_force(values: Sequence[DatedValue], on: date) -> DatedValue | None:
    """The value whose period contains ``on`` (latest ``effective_from`` not after it)."""
    candidates = [v for v in values if v.effective_from <= on]
    return max(candidates, key=lambda v: v.effective_from) if candidates else None


def timeline(values: Sequence[DatedValue]) -> list[Period]:
    ordered = sorted(values, key=lambda v: v.effective_from)
    out = []
    for current, following in zip(ordered, [*ordered[1:], None], strict=True):
        end = following.effective_from - timedelta(days=1) if following else None
        out.append(Period(current.value, current.effective_from, end, current.source))
    return out


def parse_value(spec: ParamSpec, raw: str) -> Decimal | int | str | date:
    """Typed value of ``raw`` for ``spec``; ValidationFailed names the field and the rule."""
    text = raw.strip()
    try:
        if spec.value_type == "decimal":
            value: Decimal | int | str | date = Decimal(text)
            if not value.is_finite():
                raise InvalidOperation
        elif spec.value_type == "integer":
            value = int(text)
        elif spec.value_type == "date":
            value = date.fromisoformat(text)
        else:
            value = text
    except (InvalidOperation, ValueError):
        kinds = {"decimal": "数值", "integer": "整数", "date": "日期 (YYYY-MM-DD)"}
        raise ValidationFailed(details={"value": [
            f"参数 {spec.name} 的取值应为{kinds.get(spec.value_type, '文本')}"]}) from None
    _check_range(spec, value)
    if spec.choices and text not in spec.choices:
        raise ValidationFailed(details={"value": [
            f"参数 {spec.name} 的取值应为以下之一: {', '.join(spec.choices)}"]})
    if spec.value_type == "text" and not text:
        raise ValidationFailed(details={"value": [f"参数 {spec.name} 的取值不能为空"]})
    return value


def check_new_value(spec: ParamSpec, raw: str, effective_from: date, today: date,
                    existing: Sequence[DatedValue]) -> str:
    """Validate a new dated value; returns its normalised text.

    No retroactive values: a rate that applied yesterday stays what it was, so effective
    dates start today at the earliest. One value per parameter per date.
    """
    value = parse_value(spec, raw)
    if effective_from < today:
        raise ValidationFailed(details={"effective_from": [
            f"生效日期不能早于当前业务日期 {today.isoformat()}，已生效的参数不能追溯修改"]})
    if any(v.effective_from == effective_from for v in existing):
        raise ValidationFailed(details={"effective_from": [
            f"参数 {spec.name} 在 {effective_from.isoformat()} 已有取值"]})
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def _check_range(spec: ParamSpec, value: object) -> None:
    if spec.value_type not in ("decimal", "integer"):
        return
    number = Decimal(value)  # type: ignore[arg-type]
    low = Decimal(spec.min_value) if spec.min_value is not None else None
    high = Decimal(spec.max_value) if spec.max_value is not None else None
    if (low is not None and number < low) or (high is not None and number > high):
        raise ValidationFailed(details={"value": [
            f"参数 {spec.name} 的取值应在 {spec.min_value} 至 {spec.max_value} 之间"]})
