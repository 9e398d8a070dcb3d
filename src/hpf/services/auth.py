"""Staff sign-in (登录). Lockout, second factor and permissions come with the identity module."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime

from hpf.crypto import integrity, keys
from hpf.crypto.errors import IntegrityViolation
from hpf.domain.errors import Unauthorized
from hpf.repositories.uow import UnitOfWork
from hpf.security.passwords import hash_password, needs_rehash, verify_password
from hpf.services import audit

log = logging.getLogger("hpf.auth")


class BadCredentials(Unauthorized):
    code = "bad_credentials"
    message = "用户名或密码错误"  # the same for an unknown user: no hint who exists


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    display_name: str
    org_code: str
    org_name: str


def authenticate(uow: UnitOfWork, username: str, password: str, now: datetime,
                 who: audit.Who | None = None) -> UserView:
    """Check a username and password; on success record the login time. Every attempt is
    in the audit trail: a success with the login, a refusal on its own."""
    username = username.strip()
    where = who or audit.Who.system("auth")
    try:
        with uow:
            user = uow.users.by_username(username)
            if user is not None:
                # A password hash swapped in SQL must not let anyone in (访问控制信息完整性).
                reason = integrity.check_instance(keys.for_engine(uow.database.engine), user)
                if reason:
                    log.error("login refused: app_user %s fails its integrity check (%s)", user.id, reason)
                    raise IntegrityViolation()
            ok = verify_password(password, user.password_hash if user else None)
            if not ok or user is None or not user.active:
                raise BadCredentials()
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            user.last_login_at = now
            view = _view(uow, user)
            audit.record(uow, dataclasses.replace(where, actor=username, org_code=view.org_code),
                         "auth.login", target=f"user:{username}", now=now)
            uow.commit()
    except (BadCredentials, IntegrityViolation) as exc:
        audit.record_now(uow.database, dataclasses.replace(where, actor=username[:80]), "auth.login",
                         result="failure", target=f"user:{username[:60]}", summary=exc.code, now=now)
        raise
    return view


def logout(uow: UnitOfWork, user: UserView, who: audit.Who, now: datetime) -> None:
    with uow:
        audit.record(uow, dataclasses.replace(who, actor=user.username, org_code=user.org_code),
                     "auth.logout", target=f"user:{user.username}", now=now)
        uow.commit()


def current_user(uow: UnitOfWork, user_id: int) -> UserView:
    with uow:
        user = uow.users.get(user_id)
        if user is None or not user.active:
            raise Unauthorized()
        return _view(uow, user)


def _view(uow: UnitOfWork, user) -> UserView:
    org = uow.orgs.get(user.org_id)
    return UserView(user.id, user.username, user.display_name, org.code, org.name)
