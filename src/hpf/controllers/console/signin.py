"""登录、动态口令、退出、修改密码: signing in and out of the console."""

from __future__ import annotations

import segno
from flask import flash, redirect, render_template, request, session, url_for

from hpf.controllers import deps
from hpf.controllers.api.session import ISSUER
from hpf.controllers.console.common import bp, now, refused, safe_next, signed_in
from hpf.crypto.errors import IntegrityViolation
from hpf.domain.errors import Conflict, HpfError, Unauthorized, ValidationFailed
from hpf.services import auth
from hpf.services.access import Principal

EXPIRED = "会话已超时，请重新登录"


@bp.get("/login")
def login_form():
    """登录页; ``?expired=1`` when a session timed out."""
    notice = EXPIRED if request.args.get("expired") else None
    return render_template("login.html", error=None, notice=notice, username="")


@bp.post("/login")
def login():
    """Check the password (the service's message on failure, which never tells whether the
    user exists); administrators go on to the one-time code."""
    username = request.form.get("username", "")
    try:
        user = auth.authenticate(deps.uow(), username, request.form.get("password", ""), now(), deps.who(),
                                 deps.lockout_policy(), deps.password_policy().max_age_days)
    except (Unauthorized, IntegrityViolation) as exc:
        return render_template("login.html", error=exc.message, notice=None, username=username), 401
    target = safe_next(request.args.get("next"))
    if not auth.needs_second_factor(user):
        deps.sign_in(user)
        return _signed_in(user, target)
    deps.begin_second_factor(user)
    session["pending_next"], session["pending_enrol"] = target, not user.mfa_enabled
    if user.mfa_enabled:
        return redirect(url_for("console.otp_form"))
    # Shown in this response only: the secret is never put in the (client-side) session.
    return _otp_page(_enrolment(user.id))


@bp.get("/login/otp")
def otp_form():
    """Ask for the one-time code (the password was accepted less than five minutes ago)."""
    deps.pending_user_id()
    return _otp_page(None)


@bp.post("/login/otp/enrol")
def otp_enrol():
    """A new secret for an authenticator that has not been set up yet."""
    user_id = _pending_or_none()
    if user_id is None or not session.get("pending_enrol"):
        return redirect(url_for("console.login_form"))
    return _otp_page(_enrolment(user_id))


@bp.post("/login/otp")
def otp():
    """Check the code; a wrong one counts towards the lockout like a wrong password."""
    user_id = _pending_or_none()
    if user_id is None:
        return redirect(url_for("console.login_form"))
    try:
        code = request.form.get("code", "").strip()
        user = auth.verify_second_factor(deps.uow(), user_id, code, now(), deps.who(), deps.lockout_policy(),
                                         deps.password_policy().max_age_days)
    except (Unauthorized, IntegrityViolation) as exc:
        return _otp_page(None, error=exc.message), 401
    target = safe_next(session.get("pending_next"))
    deps.sign_in(user)
    return _signed_in(user, target)


def _pending_or_none() -> int | None:
    try:
        return deps.pending_user_id()
    except deps.SessionExpired as exc:
        flash(exc.message, "error")
        return None


def _enrolment(user_id: int) -> dict | None:
    try:
        secret, uri = auth.begin_enrolment(deps.uow(), user_id, now(), ISSUER)
    except Conflict:  # enrolled meanwhile (another tab): just ask for the code
        session["pending_enrol"] = False
        return None
    # The QR code is drawn here as an SVG data URI (CSP allows img-src data:): the secret
    # never leaves this response, no image is stored or fetched.
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    return {"secret": secret, "uri": uri, "qr": qr}


def _otp_page(enrolment: dict | None, error: str | None = None):
    return render_template("otp.html", enrolment=enrolment, error=error,
                           enrolling=bool(session.get("pending_enrol")))


def _signed_in(user: Principal, target: str):
    if user.must_change_password:
        flash("您正在使用初始密码或管理员重置的密码，请先设置新密码", "warning")
        return redirect(url_for("console.password_form"))
    if user.password_expired:
        flash("密码已超过有效期，请先设置新密码", "warning")
        return redirect(url_for("console.password_form"))
    return redirect(target)


@bp.post("/logout")
def logout():
    """退出: the session ends on the server too."""
    try:
        principal = deps.actor()
    except HpfError:  # already timed out: nothing to record, just clear the cookie
        principal = None
    if principal is not None:
        auth.logout(deps.uow(), principal, deps.who(), now())
    deps.sign_out()
    flash("您已安全退出", "info")
    return redirect(url_for("console.login_form"))


@bp.get("/me/password")
@signed_in
def password_form():
    """修改密码 (also where a must-change or expired password leads)."""
    return _password_page({})


@bp.post("/me/password")
@signed_in
def password():
    form = request.form
    errors: dict[str, list[str]] = {}
    if form.get("new_password", "") != form.get("confirm_password", ""):
        errors = refused(ValidationFailed(details={"confirm_password": ["两次输入的新密码不一致"]}))
    else:
        try:
            auth.change_password(deps.uow(), deps.actor().id, form.get("old_password", ""),
                                 form.get("new_password", ""), now(), deps.password_policy(), deps.who())
        except ValidationFailed as exc:
            errors = refused(exc)
    if errors:
        return _password_page(errors), 422
    flash("密码已修改，下次登录请使用新密码", "success")
    return redirect(url_for("console.home"))


def _password_page(errors: dict):
    me = deps.actor()
    return render_template("me/password.html", errors=errors, policy=deps.password_policy(),
                           must_change=me.must_change_password, expired=me.password_expired)
