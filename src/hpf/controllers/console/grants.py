"""用户授权 (安全管理员): roles, data scope and second factor of one account."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from hpf.controllers import deps
from hpf.controllers.console.common import CORRECTABLE, bp, int_arg, now, refused
from hpf.controllers.console.users import user_list
from hpf.domain.access import KINDS
from hpf.services import access, auth, users

# 三员分立, as the rules in hpf.domain.access enforce it; shown on the page.
RULES = [
    "系统管理员、安全管理员、审计管理员三类角色互斥，同一用户只能持有其中一类（三员分立）。",
    "管理员不能同时持有业务角色；管理员登录须使用动态口令。",
    "不能为自己授权；授予的数据范围不能超出本人的数据范围。",
]


@bp.get("/security/users")
@deps.requires("grant:manage")
def grants_list():
    """用户授权: the accounts in scope, each with a link to its grants."""
    return user_list("grants")


def _grant_page(user_id: int, status: int = 200):
    me = deps.actor()
    row = users.get_user(deps.uow(), me, user_id, now())
    roles = access.list_roles(deps.uow(), me)
    by_kind = [(name, [r for r in roles if r.kind == kind]) for kind, name in KINDS.items()]
    return render_template("grants/detail.html", row=row, by_kind=[(n, rs) for n, rs in by_kind if rs],
                           orgs=users.org_tree(deps.uow(), me), rules=RULES), status


@bp.get("/security/users/<int:user_id>")
@deps.requires("grant:manage")
def grants_detail(user_id: int):
    return _grant_page(user_id)


def _change(user_id: int, done: str, call):
    """On a refusal (e.g. 三员分立) nothing changed: the page shows the state as it is."""
    try:
        call()
    except CORRECTABLE as exc:
        refused(exc)
        return _grant_page(user_id, exc.status)
    flash(done, "success")
    return redirect(url_for("console.grants_detail", user_id=user_id))


@bp.post("/security/users/<int:user_id>/roles")
@deps.requires("grant:manage")
def grants_roles(user_id: int):
    """授予 / 收回角色: the user holds exactly the ticked roles afterwards."""
    role_ids = [i for i in (int_arg(v) for v in request.form.getlist("role_ids")) if i is not None]
    return _change(user_id, "角色已保存", lambda: access.set_user_roles(
        deps.uow(), deps.actor(), deps.who(), now(), user_id, role_ids))


@bp.post("/security/users/<int:user_id>/scope")
@deps.requires("grant:manage")
def grants_scope(user_id: int):
    """数据范围: the default (own branch) or an organisation's subtree."""
    org_id = int_arg(request.form.get("scope_org_id"))
    return _change(user_id, "数据范围已保存", lambda: access.set_scope(
        deps.uow(), deps.actor(), deps.who(), now(), user_id, org_id))


@bp.post("/security/users/<int:user_id>/mfa-reset")
@deps.requires("mfa:reset")
def grants_mfa_reset(user_id: int):
    """重置动态口令 (a lost phone): the user enrols again at the next sign-in."""
    return _change(user_id, "动态口令已重置，用户下次登录时重新绑定", lambda: auth.reset_second_factor(
        deps.uow(), deps.actor(), deps.who(), now(), user_id))
