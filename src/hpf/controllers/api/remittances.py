"""汇缴/补缴: 生成、清册导入、到账匹配、入账、错缴更正; 银行到账; 年度结息."""

from __future__ import annotations

import os
from decimal import Decimal

from flask import Response, current_app, request
from flask_smorest import Blueprint

from hpf.controllers.deps import actor, requires, state, uow, who
from hpf.domain.errors import NotFound, ValidationFailed
from hpf.schemas.access import SubmittedSchema
from hpf.schemas.remittance import (
    AccruedQuerySchema,
    AccruedSchema,
    AdjustedSchema,
    BaseFileSchema,
    CreditSchema,
    ImportFormSchema,
    LinePageSchema,
    ListedSchema,
    MatchResultSchema,
    MatchSchema,
    MonthSchema,
    NewRemittanceSchema,
    PageQuerySchema,
    PostResultSchema,
    PostSchema,
    ReasonSchema,
    RemittancePageSchema,
    RemittanceQuerySchema,
    RemittanceSchema,
    SettlementSchema,
    SettleSchema,
    SimulatedPaymentSchema,
)
from hpf.services import base_adjustment, interest, remittance
from hpf.services.remittance_files import error_report_xlsx, template_xlsx

blp = Blueprint(
    "remittances",
    __name__,
    url_prefix="/api/v1/remittances",
    description="汇缴与补缴：生成或导入清册、匹配银行到账、入账、错缴更正",
)
interest_blp = Blueprint("interest", __name__, url_prefix="/api/v1/interest", description="结息")
bases_blp = Blueprint(
    "base_adjustments",
    __name__,
    url_prefix="/api/v1/units",
    description="基数调整：按清单导入或按上下限批量调整单位职工的缴存基数",
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _now():
    return state().clock.now()


def bank():
    """The bank adapter (the simulator unless configured otherwise), one per application."""
    from hpf_adapters.bank import create

    app = current_app._get_current_object()
    if "hpf.bank" not in app.extensions:
        # One journal file in the instance folder: every worker, and a restarted server,
        # sees the same simulated transfers.
        journal = os.path.join(app.instance_path, "bank-simulator.jsonl")
        app.extensions["hpf.bank"] = create("simulator", today=state().clock.today, journal=journal)
    return app.extensions["hpf.bank"]


def _upload() -> tuple[str, bytes]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationFailed("请选择要导入的清册文件", details={"file": ["必填"]})
    return upload.filename, upload.read()


def _xlsx(data: bytes, name: str) -> Response:
    return Response(data, mimetype=XLSX, headers={"Content-Disposition": f"attachment; filename={name}"})


@blp.route("")
@blp.arguments(RemittanceQuerySchema, location="query")
@blp.response(200, RemittancePageSchema)
@requires("unit:view", blp)
def list_remittances(query):
    """汇缴单查询（本人数据范围内的单位）"""
    return remittance.list_remittances(uow(), actor(), **query)


@blp.route("", methods=["POST"])
@blp.arguments(NewRemittanceSchema)
@blp.response(201, RemittanceSchema)
@requires("remittance:entry", blp)
def create(data):
    """按花名册生成汇缴单（或补缴单：补缴起止年月与原因）：缴存基数 × 比例，单位与个人部分分别舍入"""
    return remittance.create(
        uow(),
        actor(),
        who(),
        _now(),
        data["unit_id"],
        data["month"],
        kind=data["kind"],
        month_to=data["month_to"],
        reason=data["reason"],
    )


@blp.route("/month", methods=["POST"])
@blp.arguments(MonthSchema)
@blp.response(201, ListedSchema)
@requires("remittance:entry", blp)
def create_month(data):
    """生成本月汇缴单：本人数据范围内缴至上月（或新开户）的全部单位，按花名册批量生成（已生成的跳过）"""
    return {"month": data["month"],
            "listed": remittance.create_month(uow(), actor(), who(), _now(), data["month"])}


@blp.route("/import", methods=["POST"])
@blp.arguments(ImportFormSchema, location="form", content_type="multipart/form-data")
@blp.response(201, RemittanceSchema)
@requires("remittance:entry", blp)
def import_list(form):
    """导入缴存清册（.xlsx/.csv）：任何一行有误则全部不导入，返回逐行错误（422，code=remittance_list_rejected）"""
    if not form.get("month"):
        raise ValidationFailed("请填写缴存年月", details={"month": ["必填"]})
    filename, data = _upload()
    return remittance.import_list(
        uow(),
        actor(),
        who(),
        _now(),
        form["unit_id"],
        form["month"],
        filename,
        data,
        kind=form["kind"],
        month_to=form["month_to"],
        reason=form["reason"],
    )


@blp.route("/import/errors.xlsx", methods=["POST"])
@blp.arguments(ImportFormSchema, location="form", content_type="multipart/form-data")
@requires("remittance:entry", blp)
@blp.response(200, description="逐行错误报告（Excel）")
def import_errors(form):
    """清册错误报告：行号、列、错误原因（Excel 下载）"""
    filename, data = _upload()
    errors = remittance.check_import(uow(), actor(), _now(), form["unit_id"], filename, data)
    return _xlsx(error_report_xlsx(errors, title="缴存清册错误报告"), "remittance-errors.xlsx")


@blp.route("/import/template.xlsx")
@requires("remittance:entry", blp)
@blp.response(200, description="缴存清册模板（Excel）")
def import_template():
    """缴存清册模板"""
    return _xlsx(template_xlsx(), "remittance-template.xlsx")


@blp.route("/<int:remittance_id>")
@blp.response(200, RemittanceSchema)
@requires("unit:view", blp)
def get_remittance(remittance_id):
    """单张汇缴单"""
    return remittance.get(uow(), actor(), remittance_id)


@blp.route("/<int:remittance_id>/lines")
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, LinePageSchema)
@requires("unit:view", blp)
def lines(query, remittance_id):
    """汇缴清册明细（每人一行）"""
    items, total = remittance.lines(uow(), actor(), remittance_id, query["page"], query["per_page"])
    return {"items": items, "total": total, "page": query["page"], "per_page": query["per_page"]}


@blp.route("/<int:remittance_id>/cancel", methods=["POST"])
@blp.response(200, RemittanceSchema)
@requires("remittance:entry", blp)
def cancel(remittance_id):
    """作废未到账的汇缴单（该月可重新生成）"""
    return remittance.cancel(uow(), actor(), who(), _now(), remittance_id)


@blp.route("/<int:remittance_id>/match", methods=["POST"])
@blp.arguments(MatchSchema)
@blp.response(200, RemittanceSchema)
@requires("remittance:post", blp)
def match(data, remittance_id):
    """手工匹配到账：金额须与汇缴金额一致（到分）"""
    return remittance.match_by_hand(uow(), actor(), who(), _now(), remittance_id, data["credit_id"])


@blp.route("/post", methods=["POST"])
@blp.arguments(PostSchema)
@blp.response(200, PostResultSchema)
@requires("remittance:post", blp)
def post(data):
    """入账：已到账的汇缴单全部成功或全部不入账；个人明细、余额、缴至年月与记账凭证在同一事务"""
    return remittance.post(uow(), actor(), who(), _now(), data["remittance_ids"])


@blp.route("/<int:remittance_id>/reversal", methods=["POST"])
@blp.arguments(ReasonSchema)
@blp.response(202, SubmittedSchema)
@requires("remittance:reverse", blp)
def reverse(data, remittance_id):
    """错缴更正（红字冲销）：经复核（remittance.reverse）后冲回明细、余额与凭证，该月可重新缴存"""
    done = remittance.request_reversal(uow(), actor(), who(), _now(), remittance_id, data["reason"])
    return {
        "status": "pending" if done.request else "applied",
        "outcome": done.outcome,
        "approval": done.request,
    }


@blp.route("/credits")
@blp.response(200, CreditSchema(many=True))
@requires("remittance:post", blp)
def credits():
    """未匹配（含金额不符、无法识别）的银行到账"""
    return remittance.open_credits(uow(), actor())


@blp.route("/credits/fetch", methods=["POST"])
@blp.response(200, MatchResultSchema)
@requires("remittance:post", blp)
def fetch_credits():
    """从银行接口取到账流水并自动匹配（按附言中的汇缴单号与金额）"""
    found, _cursor = bank().credits_since(None)
    return remittance.receive_credits(uow(), actor(), who(), _now(), found)


@blp.route("/bank-simulator/payments", methods=["POST"])
@blp.arguments(SimulatedPaymentSchema)
@blp.response(201, description="已在模拟银行登记一笔单位转账")
@requires("remittance:entry", blp)
def simulate_payment(data):
    """模拟银行：单位按汇缴单转账（可延迟到账、可模拟金额不符）；仅在使用模拟银行时可用"""
    simulator = bank()
    if not hasattr(simulator, "pay"):
        raise NotFound("当前未使用模拟银行")
    view = remittance.get(uow(), actor(), data["remittance_id"])
    simulator.pay(
        view.unit_no,
        view.unit_name,
        view.total,
        view.payment_reference,
        state().clock.today(),
        delay_days=data["delay_days"],
        amount_error=data["amount_error"] or Decimal(0),
    )
    return {"remittance_no": view.remittance_no}, 201


@interest_blp.route("/settlements", methods=["POST"])
@interest_blp.arguments(SettleSchema)
@interest_blp.response(200, SettlementSchema)
@requires("ledger:post", interest_blp)
def settle(data):
    """年度结息（积数法）：可安全重跑，已结息年度不再入账"""
    return interest.settle_year(uow(), actor(), who(), _now(), data["interest_year"])


@interest_blp.route("/accounts/<int:account_id>")
@interest_blp.arguments(AccruedQuerySchema, location="query")
@interest_blp.response(200, AccruedSchema)
@requires("statement:view", interest_blp)
def accrued(query, account_id):
    """销户结息试算：上一结息日次日至销户日前一日的利息"""
    return interest.accrued(uow(), actor(), account_id, query["to"])


@bases_blp.route("/<int:unit_id>/base-adjustments", methods=["POST"])
@bases_blp.arguments(BaseFileSchema, location="form", content_type="multipart/form-data")
@bases_blp.response(200, AdjustedSchema)
@requires("account:change", bases_blp)
def adjust_bases(_form, unit_id):
    """基数调整（清单导入：个人账号、姓名、缴存基数）：任何一行有误则全部不调整，返回逐行错误"""
    filename, data = _upload()
    return base_adjustment.adjust_from_file(uow(), actor(), who(), _now(), unit_id, filename, data)


@bases_blp.route("/<int:unit_id>/base-adjustments/band", methods=["POST"])
@bases_blp.response(200, AdjustedSchema)
@requires("account:change", bases_blp)
def adjust_to_band(unit_id):
    """基数调整（按花名册）：低于下限的调至下限、高于上限的调至上限（当日生效的上下限）"""
    return base_adjustment.adjust_to_band(uow(), actor(), who(), _now(), unit_id)
