"""Business parameters (业务参数) with effective dates."""

from __future__ import annotations

from flask_smorest import Blueprint

from hpf.controllers.deps import actor, requires, state, today, uow, who
from hpf.schemas.access import SubmittedSchema
from hpf.schemas.common import DateQuerySchema
from hpf.schemas.reference import NewParamValueSchema, ParamSchema
from hpf.services import approvals, params

blp = Blueprint(
    "parameters",
    __name__,
    url_prefix="/api/v1/parameters",
    description="业务参数 (利率、比例、上下限等，按生效日期)",
)


@blp.route("")
@blp.arguments(DateQuerySchema, location="query")
@blp.response(200, ParamSchema(many=True))
def list_params(query):
    """全部参数及指定日期生效的取值"""
    return params.list_params(uow(), query.get("on") or today())


@blp.route("/<code>")
@blp.arguments(DateQuerySchema, location="query")
@blp.response(200, ParamSchema)
def get_param(query, code):
    """单个参数：指定日期的取值与完整历史"""
    return params.get_param(uow(), code, query.get("on") or today())


@blp.route("/<code>/values", methods=["POST"])
@blp.arguments(NewParamValueSchema)
@blp.response(202, SubmittedSchema)
@requires("param:edit", blp)
def add_value(data, code):
    """提交一个自生效日期起适用的取值 (不可追溯)。按复核规则 param.change：需要复核时返回
    pending 与复核申请，由另一位持有 param:approve 的管理员复核通过后生效；否则立即生效 (applied)"""
    user = actor()
    cmd = params.NewParamValue(code, data["value"], data["effective_from"], data["source"], user.username)
    text = params.check_value(uow(), cmd, today())
    spec = params.get_param(uow(), code, today()).spec
    payload = {
        "code": code,
        "value": text,
        "effective_from": cmd.effective_from.isoformat(),
        "source": cmd.source,
    }
    done = approvals.submit(
        uow(),
        user,
        who(),
        state().clock.now(),
        "param.change",
        payload,
        summary=f"{spec.name}：自 {payload['effective_from']} 起取值 {text}",
    )
    return {
        "status": "pending" if done.request else "applied",
        "outcome": done.outcome,
        "approval": done.request,
    }
