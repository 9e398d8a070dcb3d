"""Organisations and staff users."""

from __future__ import annotations

import sqlalchemy as sa
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

    def has_active_children(self, org_id: int) -> bool:
        query = select(OrgUnit.id).where(OrgUnit.parent_id == org_id, OrgUnit.active.is_(True)).limit(1)
        return self.session.scalar(query) is not None


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

    def search(self, org_ids: frozenset[int] | None, q: str, org_id: int | None, offset: int,
               limit: int) -> tuple[list[User], int]:
        """Users of the given organisations (None: all), matching ``q`` in the username or
        name, ordered by username; and how many match in all."""
        query = select(User)
        if org_ids is not None:
            query = query.where(User.org_id.in_(org_ids))
        if org_id is not None:
            query = query.where(User.org_id == org_id)
        if q:
            like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(sa.or_(User.username.like(like, escape="\\"),
                                       User.display_name.like(like, escape="\\")))
        total = self.session.scalar(select(sa.func.count()).select_from(query.subquery()))
        rows = self.session.scalars(query.order_by(User.username).offset(offset).limit(limit))
        return list(rows), int(total or 0)

    def count_by_org(self) -> dict[int, int]:
        rows = self.session.execute(select(User.org_id, sa.func.count()).where(User.active.is_(True))
                                    .group_by(User.org_id))
        return {org_id: n for org_id, n in rows}

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

    def locked_usernames(self, usernames: list[str], now) -> set[str]:
        if not usernames:
            return set()
        query = select(LoginThrottle.username).where(LoginThrottle.username.in_(usernames),
                                                    LoginThrottle.locked_until > now)
        return set(self.session.scalars(query))

    def clear(self, username: str) -> None:
        self.session.execute(delete(LoginThrottle).where(LoginThrottle.username == username))
