"""业务参数 (系统管理员): values in force, their history, and dated changes under 双人复核."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from hpf.controllers import deps
from hpf.controllers.console.common import CORRECTABLE, bp, now, parse_date, refused
from hpf.domain.errors import ValidationFailed
from hpf.services import approvals, params

VALUE_TYPES = {"decimal": "数值", "integer": "整数", "text": "文本", "date": "日期"}


@bp.get("/admin/params")
@deps.requires("param:view")
def params_list():
    """参数列表 with the value in force today."""
    return render_template("params/list.html", params=params.list_params(deps.uow(), deps.today()),
                           types=VALUE_TYPES)


def _pending_for(code: str) -> list[approvals.RequestView]:
    """Change requests for this parameter still waiting: mine and those I may decide."""
    me = deps.actor()
    seen: dict[int, approvals.RequestView] = {}
    for req in [*approvals.mine(deps.uow(), me), *approvals.inbox(deps.uow(), me)]:
        if req.status == "pending" and req.op_type == "param.change" and req.payload.get("code") == code:
            seen[req.id] = req
    return sorted(seen.values(), key=lambda r: r.id)


def _detail_page(code: str, errors=None, form=None, status=200):
    view = params.get_param(deps.uow(), code, deps.today())
    return render_template("params/detail.html", view=view, types=VALUE_TYPES, pending=_pending_for(code),
                           errors=errors or {}, form=form or {"effective_from": deps.today().isoformat()},
                           history=list(reversed(view.history))), status


@bp.get("/admin/params/<code>")
@deps.requires("param:view")
def params_detail(code: str):
    """参数详情: value in force, history, pending changes, and the change form."""
    return _detail_page(code)


@bp.post("/admin/params/<code>")
@deps.requires("param:edit")
def params_submit(code: str):
    """提交参数调整: checked now, held for a second administrator (param:approve)."""
    form, me = request.form, deps.actor()
    effective_from = parse_date(form.get("effective_from", ""))
    if effective_from is None:
        bad_date = ValidationFailed(details={"effective_from": ["请按 YYYY-MM-DD 填写生效日期"]})
        return _detail_page(code, refused(bad_date), form, 422)
    source = form.get("source", "").strip()[:200]
    cmd = params.NewParamValue(code, form.get("value", ""), effective_from, source, me.username)
    try:
        text = params.check_value(deps.uow(), cmd, deps.today())
        spec = params.get_param(deps.uow(), code, deps.today()).spec
        payload = {"code": code, "value": text, "effective_from": effective_from.isoformat(),
                   "source": cmd.source}
        done = approvals.submit(deps.uow(), me, deps.who(), now(), "param.change", payload,
                                summary=f"{spec.name}：自 {payload['effective_from']} 起取值 {text}")
    except CORRECTABLE as exc:
        return _detail_page(code, refused(exc), form, exc.status)
    if done.request is not None:
        flash(f"已提交，待复核（复核单号 {done.request.id}）：须由另一位持有「复核参数调整」权限的"
              "系统管理员复核通过后才生效", "success")
    else:
        flash(f"已生效：{done.outcome}", "success")
    return redirect(url_for("console.params_detail", code=code))
