"""Organisations and staff users."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hpf.repositories.models import OrgUnit, User


class OrgRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def all(self) -> list[OrgUnit]:
        return list(self.session.scalars(select(OrgUnit).order_by(OrgUnit.code)))

    def by_code(self, code: str) -> OrgUnit | None:
        return self.session.scalar(select(OrgUnit).where(OrgUnit.code == code))

    def get(self, org_id: int) -> OrgUnit | None:
        return self.session.get(OrgUnit, org_id)

    def add(self, org: OrgUnit) -> OrgUnit:
        self.session.add(org)
        self.session.flush()
        return org


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_username(self, username: str) -> User | None:
        return self.session.scalar(select(User).where(User.username == username))

    def get(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)

    def add(self, user: User) -> User:
        self.session.add(user)
        self.session.flush()
        return user
