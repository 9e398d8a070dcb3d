"""数据字典 (JGJ/T 320 code tables): browse; a centre's own items and switching codes off."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from hpf.controllers import deps
from hpf.controllers.console.common import CORRECTABLE, bp, now, refused
from hpf.services import reference


@bp.get("/admin/codes")
@deps.requires("code:view")
def codes_list():
    """代码类别."""
    return render_template("codes/list.html", tables=reference.list_code_tables(deps.uow()))


def _detail_page(type_code: str, errors=None, form=None, status=200):
    return render_template("codes/detail.html", table=reference.get_code_table(deps.uow(), type_code),
                           errors=errors or {}, form=form or {}), status


@bp.get("/admin/codes/<type_code>")
@deps.requires("code:view")
def codes_detail(type_code: str):
    """代码项 of one table."""
    return _detail_page(type_code)


@bp.post("/admin/codes/<type_code>")
@deps.requires("code:manage")
def codes_add(type_code: str):
    """新增本中心代码项 (the standard's items stay as published)."""
    form = request.form
    try:
        reference.add_code_item(deps.uow(), deps.actor(), deps.who(), now(), type_code,
                                code=form.get("code", ""), name=form.get("name", ""))
    except CORRECTABLE as exc:
        return _detail_page(type_code, refused(exc), form, exc.status)
    flash("代码项已新增", "success")
    return redirect(url_for("console.codes_detail", type_code=type_code))


@bp.post("/admin/codes/<type_code>/<code>/status")
@deps.requires("code:manage")
def codes_status(type_code: str, code: str):
    """启用 / 停用 a code (a standard code the centre does not use)."""
    active = request.form.get("active") == "1"
    try:
        reference.change_code_item(deps.uow(), deps.actor(), deps.who(), now(), type_code, code,
                                   active=active)
    except CORRECTABLE as exc:
        refused(exc)
    else:
        flash("代码项已启用" if active else "代码项已停用", "success")
    return redirect(url_for("console.codes_detail", type_code=type_code))
