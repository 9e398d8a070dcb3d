"""Code tables (数据字典)."""

from __future__ import annotations

from flask_smorest import Blueprint

from hpf.controllers.deps import actor, requires, state, uow, who
from hpf.schemas.reference import (
    CodeItemChangeSchema,
    CodeTableSchema,
    CodeTableSummarySchema,
    NewCodeItemSchema,
)
from hpf.services import reference

blp = Blueprint("code_tables", __name__, url_prefix="/api/v1/code-tables",
                description="数据字典 (JGJ/T 320 基础数据标准代码)")


@blp.route("")
@blp.response(200, CodeTableSummarySchema(many=True))
def list_tables():
    """代码类别列表"""
    return reference.list_code_tables(uow())


@blp.route("/<type_code>")
@blp.response(200, CodeTableSchema)
def get_table(type_code):
    """一个代码类别及其代码项"""
    return reference.get_code_table(uow(), type_code)


@blp.route("/<type_code>/items", methods=["POST"])
@blp.arguments(NewCodeItemSchema)
@blp.response(201, CodeTableSchema)
@requires("code:manage", blp)
def add_item(data, type_code):
    """新增本中心扩展的代码项（标准代码保持原样）"""
    return reference.add_code_item(uow(), actor(), who(), state().clock.now(), type_code, **data)


@blp.route("/<type_code>/items/<code>", methods=["PATCH"])
@blp.arguments(CodeItemChangeSchema)
@blp.response(200, CodeTableSchema)
@requires("code:manage", blp)
def change_item(data, type_code, code):
    """修改本中心代码项的名称；启用或停用任一代码项"""
    return reference.change_code_item(uow(), actor(), who(), state().clock.now(), type_code, code, **data)
