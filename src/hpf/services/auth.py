"""Staff sign-in (登录): password, lockout, the second factor, password expiry.

A sign-in whose principal needs a second factor (the administrators always; anyone who
enrolled) stops after the password: ``authenticate`` records ``auth.login.password`` and the
controller asks for the one-time code, which ``verify_second_factor`` checks. Wrong codes
count towards the same lockout as wrong passwords.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exc as sa_exc

from hpf import crypto
from hpf.crypto import integrity, keys
from hpf.crypto.errors import IntegrityViolation
from hpf.domain import password_policy as password_rules
from hpf.domain import totp
from hpf.domain.calendar import BUSINESS_TZ
from hpf.domain.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from hpf.domain.lockout import LockoutPolicy, Throttle
from hpf.domain.password_policy import PasswordPolicy
from hpf.repositories.models import StaffSession
from hpf.repositories.uow import UnitOfWork
from hpf.security.passwords import hash_password, needs_rehash, verify_password
from hpf.services import access, audit
from hpf.services.access import Principal

log = logging.getLogger("hpf.auth")


class BadCredentials(Unauthorized):
    code = "bad_credentials"
    message = "用户名或密码错误"  # the same for an unknown user: no hint who exists


class AccountLocked(Unauthorized):
    code = "account_locked"
    message = "连续登录失败次数过多，账户已锁定"


class AccountDisabled(Unauthorized):
    code = "account_disabled"
    message = "账户已停用，请联系系统管理员"


class BadSecondFactor(Unauthorized):
    code = "bad_second_factor"
    message = "动态口令错误或已使用，请输入认证器上的最新口令"


def needs_second_factor(user: Principal) -> bool:
    return user.mfa_enabled or user.mfa_required


def authenticate(uow: UnitOfWork, username: str, password: str, now: datetime,
                 who: audit.Who | None = None, policy: LockoutPolicy | None = None,
                 max_age_days: int = 0) -> Principal:
    """Check a username and password; on success record the login time. Every attempt is
    in the audit trail: a success with the login, a refusal on its own. ``policy``-many
    consecutive failures lock the username (known or not) for ``policy.minutes``."""
    username = username.strip()[:64]
    where = who or audit.Who.system("auth")
    policy = policy or LockoutPolicy()
    try:
        with uow:
            throttle = uow.throttle.get(username)
            if throttle is not None and Throttle(throttle.failures, throttle.locked_until).locked(now):
                raise AccountLocked(_locked_message(throttle.locked_until))
            user = uow.users.by_username(username)
            if user is not None:
                # A password hash swapped in SQL must not let anyone in (访问控制信息完整性).
                reason = integrity.check_instance(keys.for_engine(uow.database.engine), user)
                if reason:
                    log.error("login refused: app_user %s fails its integrity check (%s)", user.id, reason)
                    raise IntegrityViolation()
            ok = verify_password(password, user.password_hash if user else None)
            if not ok or user is None:
                raise BadCredentials()
            if not user.active:  # said only to someone who knows the password
                raise AccountDisabled()
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            user.last_login_at = now
            if throttle is not None:
                uow.throttle.clear(username)  # a success ends the run of failures
            view = access.load(uow, user, now, max_age_days)
            pending = needs_second_factor(view)
            audit.record(uow, view.who(where), "auth.login.password" if pending else "auth.login",
                         target=f"user:{username}", summary="待验证动态口令" if pending else "", now=now)
            uow.commit()
    except (BadCredentials, IntegrityViolation, AccountLocked, AccountDisabled) as exc:
        actor = dataclasses.replace(where, actor=username)
        audit.record_now(uow.database, actor, "auth.login", result="failure", target=f"user:{username}",
                         summary=exc.code, now=now)
        if isinstance(exc, BadCredentials):
            locked_until = _count_failure(uow.database, username, now, policy)
            if locked_until is not None:
                audit.record_now(uow.database, actor, "auth.lock", target=f"user:{username}",
                                 summary=f"until={locked_until.isoformat()}", now=now)
                raise AccountLocked(_locked_message(locked_until)) from None
        raise
    return view


def _count_failure(database, username: str, now: datetime, policy: LockoutPolicy) -> datetime | None:
    """Add one failure in a transaction of its own (the login's rolled back); return the
    lock's end when this failure locks the username."""
    for attempt in range(2):  # two first failures of one new username at once: retry the loser
        uow = UnitOfWork(database)
        try:
            with uow:
                row = uow.throttle.get(username, for_update=True)
                before = Throttle(row.failures, row.locked_until) if row else Throttle()
                after = before.after_failure(now, policy)
                uow.throttle.save(username, after.failures, after.locked_until, now)
                uow.commit()
            return after.locked_until
        except sa_exc.IntegrityError:
            if attempt:
                raise
    return None


def _locked_message(until: datetime) -> str:
    local = until.astimezone(BUSINESS_TZ).strftime("%H:%M")
    return f"连续登录失败次数过多，账户已锁定，请于 {local} 后再试"


def change_password(uow: UnitOfWork, user_id: int, old: str, new: str, now: datetime,
                    policy: PasswordPolicy | None = None, who: audit.Who | None = None) -> None:
    """A staff member changes their own password: the current one must be given, the new one
    must meet the policy and differ from the current and the last ``policy.history`` ones."""
    policy = policy or PasswordPolicy()
    with uow:
        user = uow.users.get(user_id)
        if user is None or not user.active:
            raise Unauthorized()
        if not verify_password(old, user.password_hash):
            raise ValidationFailed(details={"old_password": ["当前密码不正确"]})
        rules = password_rules.problems(new, user.username, policy)
        if rules:
            raise ValidationFailed(details={"new_password": rules})
        previous = [user.password_hash, *uow.users.recent_hashes(user.id, policy.history)]
        if any(verify_password(new, h) for h in previous[:policy.history + 1]):
            reused = f"新密码不得与最近 {policy.history} 次使用过的密码相同"
            raise ValidationFailed(details={"new_password": [reused]})
        uow.users.remember_hash(user.id, user.password_hash, now, policy.history)
        user.password_hash = hash_password(new)
        user.password_changed_at = now
        settings = uow.access.security(user.id)
        if settings is not None and settings.must_change_password:
            settings.must_change_password, settings.updated_at = False, now
        audit.record(uow, dataclasses.replace(who or audit.Who.system("auth"), actor=user.username),
                     "auth.password.change", target=f"user:{user.username}", now=now)
        uow.commit()


def verify_second_factor(uow: UnitOfWork, user_id: int, code: str, now: datetime, who: audit.Who,
                         policy: LockoutPolicy | None = None, max_age_days: int = 0) -> Principal:
    """The second step of a sign-in: a TOTP code from the user's authenticator. During
    enrolment (a secret stored but not yet confirmed) a good code also confirms it."""
    policy = policy or LockoutPolicy()
    username = ""
    try:
        with uow:
            user = uow.users.get(user_id)
            if user is None or not user.active:
                raise BadCredentials()
            username = user.username
            throttle = uow.throttle.get(username)
            if throttle is not None and Throttle(throttle.failures, throttle.locked_until).locked(now):
                raise AccountLocked(_locked_message(throttle.locked_until))
            settings = uow.access.security_for_update(user.id, now)
            if not settings.mfa_secret:
                raise BadSecondFactor("尚未设置动态口令", code="mfa_not_enrolled")
            step = totp.verify(settings.mfa_secret, code, now.timestamp(), last_step=settings.mfa_last_step)
            if step is None:
                raise BadSecondFactor()
            enrolling = not settings.mfa_enabled
            settings.mfa_last_step, settings.mfa_enabled, settings.updated_at = step, True, now
            uow.throttle.clear(username)
            view = access.load(uow, user, now, max_age_days)
            if enrolling:
                audit.record(uow, view.who(who), "auth.mfa.enrol", target=f"user:{username}", now=now)
            audit.record(uow, view.who(who), "auth.login", target=f"user:{username}", summary="动态口令",
                         now=now)
            uow.commit()
    except (BadCredentials, BadSecondFactor, AccountLocked) as exc:
        actor = dataclasses.replace(who, actor=username or f"user-id:{user_id}")
        audit.record_now(uow.database, actor, "auth.login", result="failure", target=f"user:{username}",
                         summary=exc.code, now=now)
        if isinstance(exc, BadSecondFactor) and username:
            locked_until = _count_failure(uow.database, username, now, policy)
            if locked_until is not None:
                audit.record_now(uow.database, actor, "auth.lock", target=f"user:{username}",
                                 summary=f"until={locked_until.isoformat()}", now=now)
                raise AccountLocked(_locked_message(locked_until)) from None
        raise
    return view


def begin_enrolment(uow: UnitOfWork, user_id: int, now: datetime, issuer: str) -> tuple[str, str]:
    """A new TOTP secret for the user (stored encrypted, not yet in force): (secret, otpauth URI).
    Until a code confirms it, an earlier enrolment stays as it was."""
    with uow:
        user = uow.users.get(user_id)
        if user is None or not user.active:
            raise Unauthorized()
        settings = uow.access.security_for_update(user.id, now)
        if settings.mfa_enabled:
            raise Conflict("已设置动态口令；如需更换，请联系安全管理员重置", code="mfa_enrolled")
        secret = totp.new_secret()
        settings.mfa_secret, settings.mfa_last_step, settings.updated_at = secret, None, now
        uow.commit()
        return secret, totp.provisioning_uri(secret, user.username, issuer)


def confirm_enrolment(uow: UnitOfWork, user: Principal, code: str, now: datetime, who: audit.Who) -> None:
    """A signed-in user switches on the (optional) second factor: the code from the newly
    scanned secret confirms it."""
    with uow:
        settings = uow.access.security_for_update(user.id, now)
        if settings.mfa_enabled:
            raise Conflict("已设置动态口令", code="mfa_enrolled")
        if not settings.mfa_secret:
            raise BadSecondFactor("请先生成动态口令密钥", code="mfa_not_enrolled")
        step = totp.verify(settings.mfa_secret, code, now.timestamp(), last_step=settings.mfa_last_step)
        if step is None:
            raise ValidationFailed(details={"code": ["动态口令不正确，请输入认证器上的最新口令"]})
        settings.mfa_enabled, settings.mfa_last_step, settings.updated_at = True, step, now
        audit.record(uow, user.who(who), "auth.mfa.enrol", target=f"user:{user.username}", now=now)
        uow.commit()


def disable_second_factor(uow: UnitOfWork, user: Principal, code: str, now: datetime, who: audit.Who) -> None:
    """Switch off one's own optional second factor (a current code proves the device); the
    administrators cannot."""
    if user.mfa_required:
        raise Forbidden("管理员必须使用动态口令，不能关闭", code="mfa_required")
    with uow:
        settings = uow.access.security_for_update(user.id, now)
        if not settings.mfa_enabled:
            raise Conflict("尚未启用动态口令", code="mfa_not_enrolled")
        if totp.verify(settings.mfa_secret, code, now.timestamp(), last_step=settings.mfa_last_step) is None:
            raise ValidationFailed(details={"code": ["动态口令不正确"]})
        settings.mfa_secret, settings.mfa_enabled, settings.mfa_last_step = None, False, None
        settings.updated_at = now
        audit.record(uow, user.who(who), "auth.mfa.disable", target=f"user:{user.username}", now=now)
        uow.commit()


def reset_second_factor(uow: UnitOfWork, actor: Principal, who: audit.Who, now: datetime,
                        user_id: int) -> None:
    """安全管理员: clear someone's enrolment (a lost phone); they enrol again at next sign-in."""
    actor.require("mfa:reset")
    if actor.id == user_id:
        raise Forbidden("不能重置自己的动态口令", code="self_administration")
    with uow:
        user = uow.users.get(user_id)
        if user is None:
            raise NotFound("用户不存在", code="user_not_found")
        actor.require_scope(user.org_id)
        settings = uow.access.security_for_update(user.id, now)
        settings.mfa_secret, settings.mfa_enabled, settings.mfa_last_step = None, False, None
        settings.updated_at = now
        audit.record(uow, actor.who(who), "auth.mfa.reset", target=f"user:{user.username}", now=now)
        uow.commit()


def logout(uow: UnitOfWork, user: Principal, who: audit.Who, now: datetime) -> None:
    with uow:
        audit.record(uow, user.who(who), "auth.logout", target=f"user:{user.username}", now=now)
        uow.commit()


def current_user(uow: UnitOfWork, user_id: int, now: datetime | None = None, max_age_days: int = 0,
                 session_token: str | None = None) -> Principal:
    """The principal of a signed-in session. With ``session_token`` the server-side session
    must exist and not have ended (signed out, or the account disabled)."""
    with uow:
        user = uow.users.get(user_id)
        if user is None or not user.active:
            raise Unauthorized()
        if session_token is not None:
            row = uow.access.session_row(_session_id(session_token))
            if row is None or row.user_id != user.id or row.ended_at is not None:
                raise SessionEnded()
            if now is not None and (now - row.last_seen_at).total_seconds() >= SESSION_TOUCH_SECONDS:
                uow.access.touch_session(row.id, now)  # at most one write a minute per session
                uow.commit()
        return access.load(uow, user, now, max_age_days)


class SessionEnded(Unauthorized):
    code = "session_expired"
    message = "会话已结束，请重新登录"


SESSION_TOUCH_SECONDS = 60
SESSION_KEEP_DAYS = 90  # ended sessions are kept this long: "上次登录" and who was signed in when


def _session_id(token: str) -> str:
    return crypto.sm3(token.encode()).hex()


def start_session(uow: UnitOfWork, user_id: int, now: datetime, ip: str) -> str:
    """A new server-side session; returns the token the cookie carries (only its SM3 digest
    is stored). The user's ended and day-old sessions are pruned."""
    token = secrets.token_urlsafe(32)
    with uow:
        uow.access.prune_sessions(user_id, now - timedelta(days=SESSION_KEEP_DAYS))
        uow.access.add_session(StaffSession(id=_session_id(token), user_id=user_id, created_at=now,
                                            last_seen_at=now, ended_at=None, ip=ip[:45]))
        uow.commit()
    return token


@dataclass(frozen=True)
class SignIn:
    at: datetime
    ip: str


def previous_sign_in(uow: UnitOfWork, user_id: int, token: str) -> SignIn | None:
    """When and from where the user signed in before this session (shown at sign-in, so that
    someone else's use of the account is noticed: GB/T 22239 身份鉴别)."""
    with uow:
        row = uow.access.previous_session(user_id, _session_id(token))
        return SignIn(row.created_at, row.ip) if row else None


def end_session(uow: UnitOfWork, user_id: int, token: str, now: datetime) -> None:
    with uow:
        uow.access.end_sessions(user_id, now, _session_id(token))
        uow.commit()
