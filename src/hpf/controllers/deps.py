"""What handlers take from the application: a unit of work, the clock, the signed-in user."""

from __future__ import annotations

import functools
import logging
from datetime import date

from flask import current_app, g, request, session

from hpf.app import AppState
from hpf.domain.errors import Forbidden, Unauthorized
from hpf.domain.lockout import LockoutPolicy
from hpf.domain.password_policy import PasswordPolicy
from hpf.logs import request_id_var
from hpf.repositories.uow import UnitOfWork
from hpf.schemas.common import ErrorSchema
from hpf.services import audit, auth, tokens
from hpf.services.access import Principal


def state() -> AppState:
    return current_app.extensions["hpf"]


def uow() -> UnitOfWork:
    return UnitOfWork(state().database)


def today() -> date:
    return state().clock.today()


class SessionExpired(Unauthorized):
    code = "session_expired"
    message = "会话已超时，请重新登录"


class PasswordChangeRequired(Forbidden):
    code = "password_change_required"
    message = "密码已过期或为初始密码，请先修改密码"


# What a user whose password must change may still do: see who they are, change it, leave.
PASSWORD_CHANGE_ENDPOINTS = {"session.me", "session.logout", "session.change_password",
                             "console.password_form", "console.password", "console.logout", "console.home"}


def actor() -> Principal:
    """The signed-in staff member or program (API token), or 401; looked up once per request.
    A session idle for longer than ``[security] session_idle_minutes``, or older than
    ``session_absolute_hours``, has ended (GB/T 22239 登录失败处理: 超时自动退出)."""
    if "actor" not in g:
        now = state().clock.now()
        max_age = state().settings.security.password_max_age_days
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer ") and request.path.startswith("/api/"):
            g.actor = tokens.authenticate(uow(), header[7:], now)
        else:
            user_id = session.get("uid")
            if not isinstance(user_id, int):
                raise Unauthorized()
            _check_session_age()
            token = session.get("sid")
            if not isinstance(token, str):
                session.clear()
                raise SessionExpired()
            try:
                g.actor = auth.current_user(uow(), user_id, now, max_age, session_token=token)
            except auth.SessionEnded:
                session.clear()
                raise
    principal = g.actor
    if ((principal.must_change_password or principal.password_expired)
            and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS):
        raise PasswordChangeRequired()
    return principal


def requires(permission: str, blp=None):
    """Decorator: the handler needs a signed-in principal holding ``permission``; a refusal is
    a 403 with an audit record (result ``denied``). With ``blp`` it is documented too."""
    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            actor().require(permission)
            return func(*args, **kwargs)

        if blp is not None:
            wrapper = blp.alt_response(401, schema=ErrorSchema, description="未登录")(wrapper)
            wrapper = blp.alt_response(403, schema=ErrorSchema, description=f"需要权限 {permission}")(wrapper)
            wrapper = blp.doc(security=[{"session": []}, {"token": []}])(wrapper)
        return wrapper
    return decorate


def _permission_of(error) -> str:
    details = error.details if isinstance(error.details, dict) else {}
    return f"permission={details['permission']}" if "permission" in details else ""


def record_denied(error) -> None:
    """A 403: in the audit trail, with what was asked for (GB/T 22239 安全审计)."""
    try:
        principal = g.get("actor")
        base = who()
        if principal is not None:
            base = principal.who(base)
        target = f"{request.method} {request.path}"
        audit.record_now(state().database, base, "access.denied", result="denied", target=target,
                         summary=" ".join(filter(None, [error.code, _permission_of(error), error.message])),
                         now=state().clock.now())
    except Exception:  # never let auditing a refusal turn it into a 500
        logging.getLogger("hpf.audit").exception("could not record a denied request")


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


def sign_in(user: Principal) -> None:
    """A new session (fresh id) for a fully authenticated user."""
    now = state().clock.now()
    session.clear()
    session.permanent = True
    session["uid"] = user.id
    session["sid"] = auth.start_session(uow(), user.id, now, request.remote_addr or "")
    session["iat"] = session["seen"] = now.timestamp()
    g.actor = user


PENDING_SECONDS = 300


def begin_second_factor(user: Principal) -> None:
    """Password accepted; the session waits (five minutes at most) for the one-time code."""
    session.clear()
    session["pending_uid"] = user.id
    session["pending_at"] = state().clock.now().timestamp()


def pending_user_id() -> int:
    user_id, since = session.get("pending_uid"), session.get("pending_at")
    if not isinstance(user_id, int) or not isinstance(since, (int, float)) \
            or state().clock.now().timestamp() - since > PENDING_SECONDS:
        session.pop("pending_uid", None)
        raise SessionExpired("登录步骤已超时，请重新输入用户名和密码")
    return user_id


def sign_out() -> None:
    """End the session on the server as well: the cookie, if copied, no longer works."""
    user_id, token = session.get("uid"), session.get("sid")
    if isinstance(user_id, int) and isinstance(token, str):
        auth.end_session(uow(), user_id, token, state().clock.now())
    session.clear()
    g.pop("actor", None)


def who() -> audit.Who:
    """The audit trail's view of this request: the signed-in user (if any), address, id."""
    user = g.get("actor")
    base = audit.Who(actor="anonymous", ip=request.remote_addr or "", request_id=request_id_var.get())
    return user.who(base) if user else base


def lockout_policy() -> LockoutPolicy:
    security = state().settings.security
    return LockoutPolicy(security.lockout_threshold, security.lockout_minutes)


def password_policy() -> PasswordPolicy:
    security = state().settings.security
    return PasswordPolicy(security.password_min_length, security.password_min_classes,
                          security.password_history, security.password_max_age_days)
