"""Employers (单位): look-ups, scoped lists and staff counts."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from hpf.repositories.models import IndividualAccount, Unit

STAFF_STATES = ("01", "06")  # 正常 and 冻结 accounts still belong to the unit's staff


class UnitRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, unit_id: int, *, for_update: bool = False) -> Unit | None:
        query = select(Unit).where(Unit.id == unit_id)
        if for_update:
            query = query.with_for_update()
        return self.session.scalar(query)

    def by_credit_code(self, credit_code: str) -> Unit | None:
        return self.session.scalar(select(Unit).where(Unit.credit_code == credit_code))

    def add(self, unit: Unit) -> Unit:
        self.session.add(unit)
        self.session.flush()
        return unit

    def search(self, org_ids: frozenset[int] | None, q: str, offset: int,
               limit: int) -> tuple[list[Unit], int]:
        """Units of the given organisations (None: all) whose name contains ``q`` or whose
        credit code or unit number is ``q``, by unit number; and how many match in all."""
        query = select(Unit)
        if org_ids is not None:
            query = query.where(Unit.org_id.in_(org_ids))
        if q:
            like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(sa.or_(Unit.name.like(like, escape="\\"), Unit.credit_code == q.upper(),
                                       Unit.unit_no == q))
        total = self.session.scalar(select(sa.func.count()).select_from(query.subquery()))
        rows = self.session.scalars(query.order_by(Unit.unit_no).offset(offset).limit(limit))
        return list(rows), int(total or 0)

    def staff(self, unit_id: int) -> tuple[int, Decimal]:
        """How many staff accounts (正常 or 冻结) the unit has, and their balance."""
        query = (select(sa.func.count(), sa.func.coalesce(sa.func.sum(IndividualAccount.balance), 0))
                 .where(IndividualAccount.unit_id == unit_id,
                        IndividualAccount.status.in_(STAFF_STATES)))
        count, balance = self.session.execute(query).one()
        return int(count or 0), Decimal(balance or 0)
