"""Organisations and staff users."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hpf.repositories.models import LoginThrottle, OrgUnit, PasswordHistory, User


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

    def recent_hashes(self, user_id: int, n: int) -> list[str]:
        query = (select(PasswordHistory.password_hash).where(PasswordHistory.user_id == user_id)
                 .order_by(PasswordHistory.changed_at.desc(), PasswordHistory.id.desc()).limit(n))
        return list(self.session.scalars(query)) if n else []

    def remember_hash(self, user_id: int, password_hash: str, now, keep: int) -> None:
        """Record a retired hash; keep only the newest ``keep``."""
        self.session.add(PasswordHistory(user_id=user_id, password_hash=password_hash, changed_at=now))
        self.session.flush()
        old = (select(PasswordHistory.id).where(PasswordHistory.user_id == user_id)
               .order_by(PasswordHistory.changed_at.desc(), PasswordHistory.id.desc()).offset(keep))
        stale = list(self.session.scalars(old))
        if stale:
            self.session.execute(delete(PasswordHistory).where(PasswordHistory.id.in_(stale)))


class ThrottleRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, username: str, *, for_update: bool = False) -> LoginThrottle | None:
        query = select(LoginThrottle).where(LoginThrottle.username == username)
        if for_update:
            query = query.with_for_update()
        return self.session.scalar(query)

    def save(self, username: str, failures: int, locked_until, now) -> None:
        row = self.get(username, for_update=True)
        if row is None:
            self.session.add(LoginThrottle(username=username, failures=failures, locked_until=locked_until,
                                           last_failed_at=now))
        else:
            row.failures, row.locked_until, row.last_failed_at = failures, locked_until, now
        self.session.flush()

    def clear(self, username: str) -> None:
        self.session.execute(delete(LoginThrottle).where(LoginThrottle.username == username))
