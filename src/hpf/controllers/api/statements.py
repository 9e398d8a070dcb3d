"""明细对账单: one individual account's or one employer's account detail, as JSON or Excel."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from hpf.controllers.deps import actor, requires, state, uow, who
from hpf.domain.calendar import BUSINESS_TZ
from hpf.schemas.statements import (
    AccountExportQuerySchema,
    AccountStatementQuerySchema,
    AccountStatementSchema,
    UnitExportQuerySchema,
    UnitStatementQuerySchema,
    UnitStatementSchema,
)
from hpf.services import statements

blp = Blueprint("statements", __name__, url_prefix="/api/v1",
                description="明细对账单：个人明细与单位明细（含 Excel 导出）")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx(data: bytes, name: str) -> Response:
    """An Excel download named ``<name>-<Beijing time>.xlsx``."""
    stamp = state().clock.now().astimezone(BUSINESS_TZ).strftime("%Y%m%d%H%M%S")
    return Response(data, mimetype=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}-{stamp}.xlsx"'})


@blp.route("/accounts/<int:account_id>/statement")
@blp.arguments(AccountStatementQuerySchema, location="query")
@blp.response(200, AccountStatementSchema)
@requires("statement:view", blp)
def account_statement(query, account_id):
    """个人明细：期初余额、逐笔明细及余额、收入/支出合计"""
    return statements.account_statement(uow(), actor(), account_id, **query)


@blp.route("/accounts/<int:account_id>/statement.xlsx")
@blp.arguments(AccountExportQuerySchema, location="query")
@blp.response(200, description="Excel 文件（全部符合条件的明细，上限 200,000 条）")
@requires("statement:view", blp)
def account_statement_xlsx(query, account_id):
    """导出个人明细（Excel）；导出记入审计日志"""
    data = statements.export_account_xlsx(uow(), actor(), who(), state().clock.now(), account_id, **query)
    return xlsx(data, f"statement-account-{account_id}")


@blp.route("/units/<int:unit_id>/statement")
@blp.arguments(UnitStatementQuerySchema, location="query")
@blp.response(200, UnitStatementSchema)
@requires("statement:view", blp)
def unit_statement(query, unit_id):
    """单位明细：在该单位名下记账的个人明细，按业务类型合计"""
    return statements.unit_statement(uow(), actor(), unit_id, **query)


@blp.route("/units/<int:unit_id>/statement.xlsx")
@blp.arguments(UnitExportQuerySchema, location="query")
@blp.response(200, description="Excel 文件（全部符合条件的明细，上限 200,000 条）")
@requires("statement:view", blp)
def unit_statement_xlsx(query, unit_id):
    """导出单位明细（Excel）；导出记入审计日志"""
    data = statements.export_unit_xlsx(uow(), actor(), who(), state().clock.now(), unit_id, **query)
    return xlsx(data, f"statement-unit-{unit_id}")
