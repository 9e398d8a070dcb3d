"""工作台与个人设置: the home page, one's profile and one's API tokens."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for

from hpf.controllers import deps
from hpf.controllers.console.common import CORRECTABLE, bp, int_arg, now, refused, signed_in
from hpf.controllers.console.menu import MENU, visible
from hpf.domain.access import CATALOGUE
from hpf.services import auth, system, tokens


@bp.get("/")
@signed_in
def home():
    """工作台: who I am, where I work, what waits for me, and where to go."""
    me = deps.actor()
    if me.must_change_password or me.password_expired:
        return redirect(url_for("console.password_form"))
    info = system.info(deps.state().database) if me.can("system:view") else None
    shortcuts = [(group, item) for group, items in MENU[2:-1] for item in items if visible(item, me)]
    return render_template("home.html", info=info, shortcuts=shortcuts, ip=request.remote_addr or "",
                           previous=_previous())


def _previous():
    token = session.get("sid")
    return auth.previous_sign_in(deps.uow(), deps.actor().id, token) if isinstance(token, str) else None


@bp.get("/me")
@signed_in
def me_profile():
    """个人设置: name, organisation, roles, data scope, second factor."""
    return render_template("me/profile.html", ip=request.remote_addr or "", previous=_previous())


def _max_days() -> int:
    return deps.state().settings.security.token_max_days


def _token_page(errors=None, form=None, issued=None, status=200):
    me = deps.actor()
    mine = tokens.list_tokens(deps.uow(), me, now())
    scopes = [p for p in CATALOGUE if me.can(p.code) and p.code != "token:self"]
    return render_template("me/tokens.html", tokens=mine, scopes=scopes, errors=errors or {},
                           form=form or {"days": "30"}, issued=issued, max_days=_max_days()), status


@bp.get("/me/tokens")
@signed_in
def my_tokens():
    """我的接口令牌: list; issue (with token:self)."""
    return _token_page()


@bp.post("/me/tokens")
@deps.requires("token:self")
def my_token_issue():
    """Issue a token: shown in this response only, never again (so no redirect here)."""
    form = request.form
    days = int_arg(form.get("days"))
    try:
        issued = tokens.issue(deps.uow(), deps.actor(), deps.who(), now(), name=form.get("name", ""),
                              scopes=form.getlist("scopes"), days=days or 0, max_days=_max_days())
    except CORRECTABLE as exc:
        return _token_page(refused(exc), form, status=exc.status)
    return _token_page(issued=issued, status=201)


@bp.post("/me/tokens/<int:token_id>/revoke")
@signed_in
def my_token_revoke(token_id: int):
    """吊销本人的令牌 (allowed even after losing token:self)."""
    try:
        tokens.revoke(deps.uow(), deps.actor(), deps.who(), now(), token_id)
    except CORRECTABLE as exc:
        refused(exc)
    else:
        flash("令牌已吊销，使用它的程序将立即无法访问", "success")
    return redirect(url_for("console.my_tokens"))
