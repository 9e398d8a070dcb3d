"""Maker-checker requests (双人复核) and the rules that decide when one is needed."""

from __future__ import annotations

from flask_smorest import Blueprint

from hpf.controllers.deps import actor, requires, signed_in, state, uow, who
from hpf.schemas.access import (
    ApprovalQuerySchema,
    ApprovalSchema,
    DecisionSchema,
    PolicyChangeSchema,
    PolicySchema,
)
from hpf.services import approvals

blp = Blueprint("approvals", __name__, url_prefix="/api/v1", description="双人复核")


@blp.route("/approvals")
@blp.arguments(ApprovalQuerySchema, location="query")
@blp.response(200, ApprovalSchema(many=True))
@signed_in(blp)
def list_requests(query):
    """待我复核的申请（inbox），或我提交的申请（mine）"""
    if query["box"] == "mine":
        return approvals.mine(uow(), actor())
    return approvals.inbox(uow(), actor())


@blp.route("/approvals/<int:request_id>")
@blp.response(200, ApprovalSchema)
@signed_in(blp)
def get_request(request_id):
    """单个申请（经办人或有复核权限者可见）"""
    return approvals.get(uow(), actor(), request_id)


def _decide(request_id: int, approve: bool, note: str):
    return approvals.decide(
        uow(), actor(), who(), state().clock.now(), request_id, approve=approve, note=note
    )


@blp.route("/approvals/<int:request_id>/approve", methods=["POST"])
@blp.arguments(DecisionSchema)
@blp.response(200, ApprovalSchema)
@signed_in(blp)
def approve(data, request_id):
    """复核通过：业务在此时执行（经办人不能复核自己的申请）"""
    return _decide(request_id, True, data["note"])


@blp.route("/approvals/<int:request_id>/reject", methods=["POST"])
@blp.arguments(DecisionSchema)
@blp.response(200, ApprovalSchema)
@signed_in(blp)
def reject(data, request_id):
    """复核退回（须填写意见），业务不执行"""
    return _decide(request_id, False, data["note"])


@blp.route("/approvals/<int:request_id>/cancel", methods=["POST"])
@blp.response(200, ApprovalSchema)
@signed_in(blp)
def cancel(request_id):
    """经办人撤销尚未复核的申请"""
    return approvals.cancel(uow(), actor(), who(), state().clock.now(), request_id)


@blp.route("/approval-policies")
@blp.response(200, PolicySchema(many=True))
@requires("approval:policy", blp)
def list_policies():
    """各业务类型的复核规则"""
    return approvals.policies(uow())


@blp.route("/approval-policies/<op_type>", methods=["PUT"])
@blp.arguments(PolicyChangeSchema)
@blp.response(200, PolicySchema(many=True))
@requires("approval:policy", blp)
def set_policy(data, op_type):
    """设置复核规则：always 一律复核 / above 超过阈值复核 / never 无需复核"""
    approvals.set_policy(
        uow(), actor(), who(), state().clock.now(), op_type, mode=data["mode"], threshold=data["threshold"]
    )
    return approvals.policies(uow())
