"""What handlers take from the application: a unit of work, the clock, the signed-in user."""

from __future__ import annotations

import functools
from datetime import date

from flask import current_app, g, request, session

from hpf.app import AppState
from hpf.domain.errors import Unauthorized
from hpf.domain.lockout import LockoutPolicy
from hpf.domain.password_policy import PasswordPolicy
from hpf.logs import request_id_var
from hpf.repositories.uow import UnitOfWork
from hpf.schemas.common import ErrorSchema
from hpf.services import audit, auth


def state() -> AppState:
    return current_app.extensions["hpf"]


def uow() -> UnitOfWork:
    return UnitOfWork(state().database)


def today() -> date:
    return state().clock.today()


class SessionExpired(Unauthorized):
    code = "session_expired"
    message = "会话已超时，请重新登录"


def actor() -> auth.UserView:
    """The signed-in staff member, or 401 (looked up once per request). A session idle for
    longer than ``[security] session_idle_minutes``, or older than ``session_absolute_hours``,
    has ended (GB/T 22239 登录失败处理: 超时自动退出)."""
    if "actor" not in g:
        user_id = session.get("uid")
        if not isinstance(user_id, int):
            raise Unauthorized()
        _check_session_age()
        g.actor = auth.current_user(uow(), user_id)
    return g.actor


def _check_session_age() -> None:
    security = state().settings.security
    now = state().clock.now().timestamp()
    issued, seen = session.get("iat"), session.get("seen")
    if (not isinstance(issued, (int, float)) or not isinstance(seen, (int, float))
            or now - seen > security.session_idle_minutes * 60
            or now - issued > security.session_absolute_hours * 3600):
        session.clear()
        raise SessionExpired()
    session["seen"] = now


def signed_in(blp):
    """Decorator for handlers that need a signed-in user: checks it and documents it."""
    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            actor()
            return func(*args, **kwargs)

        wrapper = blp.alt_response(401, schema=ErrorSchema, description="未登录")(wrapper)
        wrapper = blp.doc(security=[{"session": []}])(wrapper)
        return wrapper
    return decorate


def sign_in(user: auth.UserView) -> None:
    session.clear()
    session.permanent = True
    session["uid"] = user.id
    session["iat"] = session["seen"] = state().clock.now().timestamp()
    g.actor = user


def sign_out() -> None:
    session.clear()
    g.pop("actor", None)


def who() -> audit.Who:
    """The audit trail's view of this request: the signed-in user (if any), address, id."""
    user = g.get("actor")
    return audit.Who(actor=user.username if user else "anonymous", org_code=user.org_code if user else "",
                     ip=request.remote_addr or "", request_id=request_id_var.get())


def lockout_policy() -> LockoutPolicy:
    security = state().settings.security
    return LockoutPolicy(security.lockout_threshold, security.lockout_minutes)


def password_policy() -> PasswordPolicy:
    security = state().settings.security
    return PasswordPolicy(security.password_min_length, security.password_min_classes,
                          security.password_history, security.password_max_age_days)
