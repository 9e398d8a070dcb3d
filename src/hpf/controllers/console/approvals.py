"""复核待办 (双人复核): what waits for me, what I submitted, and deciding a request."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from hpf.controllers import deps
from hpf.controllers.console.common import CORRECTABLE, bp, now, refused, signed_in
from hpf.domain.access import BY_CODE
from hpf.services import approvals

# Payload keys in words (the operation types of later modules add theirs here).
FIELD_NAMES = {
    "code": "参数代码", "value": "取值", "effective_from": "生效日期", "source": "依据（文号）",
    "amount": "金额", "account_no": "账号", "unit_no": "单位账号", "reason": "原因",
}


@bp.get("/approvals")
@signed_in
def approvals_inbox():
    """待我复核: pending requests I may decide (not my own)."""
    rows = approvals.inbox(deps.uow(), deps.actor())
    return render_template("approvals/list.html", rows=rows, tab="inbox")


@bp.get("/approvals/mine")
@signed_in
def approvals_mine():
    """我提交的: my requests, newest first; a pending one can be withdrawn."""
    rows = approvals.mine(deps.uow(), deps.actor())
    return render_template("approvals/list.html", rows=rows, tab="mine")


def _detail_page(request_id: int, errors=None, status=200):
    me = deps.actor()
    req = approvals.get(deps.uow(), me, request_id)
    policy = next((p for p in approvals.policies(deps.uow()) if p.op_type == req.op_type), None)
    checker = policy.checker_permission if policy else None
    pending = req.status == "pending"
    mine = req.maker_name == me.username
    return render_template(
        "approvals/detail.html", req=req, fields=FIELD_NAMES, errors=errors or {},
        checker_name=BY_CODE[checker].name if checker in BY_CODE else checker,
        can_decide=pending and not mine and bool(checker) and me.can(checker),
        can_cancel=pending and mine, mine=mine,
    ), status


@bp.get("/approvals/<int:request_id>")
@signed_in
def approvals_detail(request_id: int):
    """复核单: the payload as submitted, and approve / reject."""
    return _detail_page(request_id)


@bp.post("/approvals/<int:request_id>/decision")
@signed_in
def approvals_decide(request_id: int):
    """通过 (the operation runs now) or 退回 (a note is required)."""
    approve = request.form.get("decision") == "approve"
    try:
        view = approvals.decide(deps.uow(), deps.actor(), deps.who(), now(), request_id, approve=approve,
                                note=request.form.get("note", ""))
    except CORRECTABLE as exc:
        return _detail_page(request_id, refused(exc), exc.status)
    flash(f"已复核通过：{view.outcome or view.summary}" if approve else "已退回经办人", "success")
    return redirect(url_for("console.approvals_inbox"))


@bp.post("/approvals/<int:request_id>/cancel")
@signed_in
def approvals_cancel(request_id: int):
    """撤销 (only the maker, only while pending)."""
    try:
        approvals.cancel(deps.uow(), deps.actor(), deps.who(), now(), request_id)
    except CORRECTABLE as exc:
        refused(exc)
    else:
        flash("已撤销该申请", "success")
    return redirect(url_for("console.approvals_mine"))
