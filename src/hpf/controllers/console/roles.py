"""角色与权限 (安全管理员): built-in and custom roles and their permissions."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from hpf.controllers import deps
from hpf.controllers.console.common import CORRECTABLE, bp, now, refused
from hpf.domain.access import CATALOGUE, KINDS, Permission
from hpf.services import access


def catalogue(kind: str | None = None) -> list[tuple[str, str, str, list[Permission]]]:
    """(kind, kind name, group, permissions) in catalogue order, of one kind or all."""
    out: list[tuple[str, str, str, list[Permission]]] = []
    for perm in CATALOGUE:
        if kind is not None and perm.kind != kind:
            continue
        if not out or out[-1][2] != perm.group or out[-1][0] != perm.kind:
            out.append((perm.kind, KINDS[perm.kind], perm.group, []))
        out[-1][3].append(perm)
    return out


@bp.get("/security/roles")
@deps.requires("role:view")
def roles_list():
    """角色列表: kind, built-in or not, how many hold it, how many permissions."""
    return render_template("roles/list.html", roles=access.list_roles(deps.uow(), deps.actor()))


def _role_page(role_id: int, chosen: list[str] | None = None, status: int = 200):
    me = deps.actor()
    role = next((r for r in access.list_roles(deps.uow(), me) if r.id == role_id), None)
    if role is None:
        abort(404)
    if role.builtin:
        locked = "内置角色的权限由系统固定，不可修改；如需不同的权限组合，请新建自定义角色。"
    elif role.code in {r.code for r in me.roles}:
        locked = "您持有该角色，不能修改其权限（不得为自己授权）。"
    elif not me.can("role:manage"):
        locked = "您没有「新建/修改角色」权限，只能查看。"
    else:
        locked = ""
    return render_template("roles/detail.html", role=role, groups=catalogue(role.kind), locked=locked,
                           chosen=set(role.permissions if chosen is None else chosen)), status


@bp.get("/security/roles/<int:role_id>")
@deps.requires("role:view")
def roles_detail(role_id: int):
    """角色详情: the catalogue of its kind, ticked where the role holds the permission."""
    return _role_page(role_id)


@bp.post("/security/roles/<int:role_id>")
@deps.requires("role:manage")
def roles_update(role_id: int):
    chosen = request.form.getlist("permissions")
    try:
        access.set_role_permissions(deps.uow(), deps.actor(), deps.who(), now(), role_id, chosen)
    except CORRECTABLE as exc:
        refused(exc)
        return _role_page(role_id, chosen, exc.status)
    flash("角色权限已保存，持有该角色的用户立即生效", "success")
    return redirect(url_for("console.roles_detail", role_id=role_id))


def _new_page(errors, form, chosen, status=200):
    return render_template("roles/new.html", errors=errors, form=form, chosen=set(chosen), kinds=KINDS,
                           groups=catalogue()), status


@bp.get("/security/roles/new")
@deps.requires("role:manage")
def roles_new():
    return _new_page({}, {"kind": "business"}, [])


@bp.post("/security/roles")
@deps.requires("role:manage")
def roles_create():
    """新建自定义角色: its permissions must all be of its kind (三员与业务权限分离)."""
    form, chosen = request.form, request.form.getlist("permissions")
    try:
        role = access.create_role(deps.uow(), deps.actor(), deps.who(), now(), code=form.get("code", ""),
                                  name=form.get("name", ""), kind=form.get("kind", ""), permissions=chosen,
                                  description=form.get("description", ""))
    except CORRECTABLE as exc:
        return _new_page(refused(exc), form, chosen, exc.status)
    flash(f"已新建角色「{role.name}」", "success")
    return redirect(url_for("console.roles_detail", role_id=role.id))
