"""Code tables (数据字典)."""

from __future__ import annotations

from flask_smorest import Blueprint

from hpf.controllers.deps import uow
from hpf.schemas.reference import CodeTableSchema, CodeTableSummarySchema
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
