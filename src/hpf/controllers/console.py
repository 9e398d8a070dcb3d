"""The staff console shell (工作台): sign-in, home page, sign-out.

Server-rendered Jinja2, Simplified Chinese. The identity module grows this into the full
console (menus by permission, admin pages); here it proves the login and shows the system.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from hpf.controllers.deps import actor, lockout_policy, sign_in, sign_out, state, uow, who
from hpf.crypto.errors import IntegrityViolation
from hpf.domain.errors import Unauthorized
from hpf.services import auth, system

bp = Blueprint("console", __name__)


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def _check_csrf() -> None:
    sent = request.form.get("csrf_token", "")
    if not sent or not secrets.compare_digest(sent, session.get("csrf", "")):
        abort(400)


@bp.app_context_processor
def _inject():
    return {"csrf_token": csrf_token}


@bp.get("/")
def home():
    try:
        user = actor()
    except Unauthorized:
        return redirect(url_for("console.login_form", next=request.path))
    return render_template("home.html", user=user, info=system.info(state().database))


@bp.get("/login")
def login_form():
    return render_template("login.html", error=None, username="")


@bp.post("/login")
def login():
    _check_csrf()
    username = request.form.get("username", "")
    try:
        user = auth.authenticate(uow(), username, request.form.get("password", ""),
                                 state().clock.now(), who(), lockout_policy())
    except (Unauthorized, IntegrityViolation) as exc:
        return render_template("login.html", error=exc.message, username=username), 401
    sign_in(user)
    target = request.args.get("next", "")
    # Only same-site relative paths: never an open redirect.
    return redirect(target if target.startswith("/") and not target.startswith("//") else "/")


@bp.post("/logout")
def logout():
    _check_csrf()
    if session.get("uid") is not None:
        auth.logout(uow(), actor(), who(), state().clock.now())
    sign_out()
    return redirect(url_for("console.login_form"))
