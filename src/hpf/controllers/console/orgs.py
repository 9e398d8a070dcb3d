"""机构管理 (系统管理员): the centre, its branches and their counters."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from hpf.controllers import deps
from hpf.controllers.console.common import CORRECTABLE, bp, int_arg, now, refused
from hpf.domain.errors import ValidationFailed
from hpf.services import users

PARENT_KINDS = ("centre", "branch")  # a counter has no children


def _tree():
    return users.org_tree(deps.uow(), deps.actor())


def _list_page(errors=None, form=None, status=200):
    tree = _tree()
    parents = [o for o in tree if o.kind in PARENT_KINDS and o.active]
    return render_template("orgs/list.html", tree=tree, parents=parents, errors=errors or {},
                           form=form or {}), status


@bp.get("/admin/orgs")
@deps.requires("org:view")
def orgs_list():
    """机构树 (indented), with a form to add a branch or counter."""
    return _list_page()


@bp.post("/admin/orgs")
@deps.requires("org:manage")
def orgs_create():
    """新建机构: a branch under the centre, a counter under a branch."""
    form = request.form
    parent_id = int_arg(form.get("parent_id"))
    if parent_id is None:
        return _list_page(refused(ValidationFailed(details={"parent_id": ["请选择上级机构"]})), form, 422)
    try:
        row = users.create_org(deps.uow(), deps.actor(), deps.who(), now(), code=form.get("code", ""),
                               name=form.get("name", ""), parent_id=parent_id,
                               region_code=form.get("region_code", "").strip() or None)
    except CORRECTABLE as exc:
        return _list_page(refused(exc), form, exc.status)
    flash(f"已新建{row.kind_name}「{row.name}」", "success")
    return redirect(url_for("console.orgs_list"))


def _detail_page(org_id: int, errors=None, form=None, status=200):
    tree = _tree()
    org = next((o for o in tree if o.id == org_id), None)
    if org is None:
        abort(404)
    parent = next((o for o in tree if o.id == org.parent_id), None)
    children = [o for o in tree if o.parent_id == org.id]
    return render_template("orgs/detail.html", org=org, parent=parent, children=children,
                           errors=errors or {}, form=form or {}), status


@bp.get("/admin/orgs/<int:org_id>")
@deps.requires("org:view")
def orgs_detail(org_id: int):
    """机构详情: rename, enable or disable."""
    return _detail_page(org_id)


def _change(org_id: int, done: str, **changes):
    try:
        users.update_org(deps.uow(), deps.actor(), deps.who(), now(), org_id, **changes)
    except CORRECTABLE as exc:
        return _detail_page(org_id, refused(exc), request.form, exc.status)
    flash(done, "success")
    return redirect(url_for("console.orgs_detail", org_id=org_id))


@bp.post("/admin/orgs/<int:org_id>")
@deps.requires("org:manage")
def orgs_update(org_id: int):
    return _change(org_id, "机构名称已保存", name=request.form.get("name", ""))


@bp.post("/admin/orgs/<int:org_id>/status")
@deps.requires("org:manage")
def orgs_status(org_id: int):
    active = request.form.get("active") == "1"
    return _change(org_id, "机构已启用" if active else "机构已停用", active=active)
