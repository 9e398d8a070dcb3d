"""Business parameters (业务参数) with effective dates."""

from __future__ import annotations

from flask_smorest import Blueprint

from hpf.controllers.deps import actor, signed_in, today, uow, who
from hpf.schemas.common import DateQuerySchema
from hpf.schemas.reference import NewParamValueSchema, ParamSchema
from hpf.services import params

blp = Blueprint("parameters", __name__, url_prefix="/api/v1/parameters",
                description="业务参数 (利率、比例、上下限等，按生效日期)")


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
@blp.response(201, ParamSchema)
@signed_in(blp)
def add_value(data, code):
    """新增一个自生效日期起适用的取值 (不可追溯)"""
    user = actor()
    cmd = params.NewParamValue(code, data["value"], data["effective_from"], data["source"],
                               user.username)
    return params.add_value(uow(), cmd, today(), who())
