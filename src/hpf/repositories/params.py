"""Parameters and their dated values."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hpf.domain.params import DatedValue, ParamSpec
from hpf.repositories.models import ParamDef, ParamValue


class ParamRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def specs(self) -> list[ParamSpec]:
        rows = self.session.scalars(select(ParamDef).order_by(ParamDef.code))
        return [_spec(r) for r in rows]

    def spec(self, code: str) -> ParamSpec | None:
        row = self.session.get(ParamDef, code)
        return _spec(row) if row else None

    def values(self, code: str) -> list[DatedValue]:
        rows = self.session.scalars(select(ParamValue).where(ParamValue.param_code == code)
                                    .order_by(ParamValue.effective_from))
        return [DatedValue(r.value, r.effective_from, r.source) for r in rows]

    def all_values(self) -> dict[str, list[DatedValue]]:
        out: dict[str, list[DatedValue]] = {}
        for r in self.session.scalars(select(ParamValue).order_by(ParamValue.effective_from)):
            out.setdefault(r.param_code, []).append(DatedValue(r.value, r.effective_from, r.source))
        return out

    def lock_spec(self, code: str) -> None:
        """Serialise concurrent edits of one parameter (row lock on its definition)."""
        self.session.execute(select(ParamDef.code).where(ParamDef.code == code)
                             .with_for_update())

    def add_value(self, code: str, value: DatedValue, created_by: str) -> None:
        self.session.add(ParamValue(param_code=code, value=value.value,
                                    effective_from=value.effective_from, source=value.source,
                                    created_by=created_by))
        self.session.flush()


def _spec(row: ParamDef) -> ParamSpec:
    return ParamSpec(row.code, row.name, row.value_type, row.unit, row.min_value,
                     row.max_value, tuple(filter(None, (row.choices or "").split(","))),
                     row.description)
