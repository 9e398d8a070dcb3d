"""复核规则与接口令牌 (安全管理员): when a second person must check, and every token in scope."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import flash, redirect, render_template, request, url_for

from hpf.controllers import deps
from hpf.controllers.console.common import CORRECTABLE, bp, now, refused
from hpf.domain.access import BY_CODE
from hpf.domain.errors import ValidationFailed
from hpf.services import approvals, tokens


def _policies_page(errors=None, failed: str | None = None, status: int = 200):
    return render_template("security/policies.html", policies=approvals.policies(deps.uow()),
                           modes=approvals.MODES, perms=BY_CODE, errors=errors or {}, failed=failed,
                           form=request.form if failed else {}), status


@bp.get("/security/approval-policies")
@deps.requires("approval:policy")
def policies_list():
    """复核规则: per operation type, always / above an amount / never."""
    return _policies_page()


@bp.post("/security/approval-policies/<op_type>")
@deps.requires("approval:policy")
def policies_update(op_type: str):
    mode, raw = request.form.get("mode", ""), request.form.get("threshold", "").strip().replace(",", "")
    try:
        threshold = Decimal(raw) if raw else None
        if threshold is not None and not threshold.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        bad = ValidationFailed(details={"threshold": ["金额格式不正确"]})
        return _policies_page(refused(bad), op_type, 422)
    try:
        approvals.set_policy(deps.uow(), deps.actor(), deps.who(), now(), op_type, mode=mode,
                             threshold=threshold)
    except CORRECTABLE as exc:
        return _policies_page(refused(exc), op_type, exc.status)
    flash("复核规则已保存", "success")
    return redirect(url_for("console.policies_list"))


@bp.get("/security/tokens")
@deps.requires("token:manage")
def tokens_list():
    """接口令牌: every token of the users in scope; revoke any."""
    return render_template("security/tokens.html",
                           tokens=tokens.list_tokens(deps.uow(), deps.actor(), now(), everyone=True))


@bp.post("/security/tokens/<int:token_id>/revoke")
@deps.requires("token:manage")
def tokens_revoke(token_id: int):
    try:
        tokens.revoke(deps.uow(), deps.actor(), deps.who(), now(), token_id)
    except CORRECTABLE as exc:
        refused(exc)
    else:
        flash("令牌已吊销", "success")
    return redirect(url_for("console.tokens_list"))
