"""总账 (ledger): vouchers, reversal (红字冲销), trial balance, closing a business day (日结)."""

from __future__ import annotations

from datetime import date

from flask_smorest import Blueprint

from hpf.controllers.deps import actor, requires, state, today, uow, who
from hpf.domain.errors import ValidationFailed
from hpf.schemas.base import Schema, fields, validate
from hpf.services import ledger

blp = Blueprint("ledger", __name__, url_prefix="/api/v1/ledger",
                description="总账：凭证、冲销、试算平衡、日结")


class EntrySchema(Schema):
    line_no = fields.Integer()
    subject = fields.String(metadata={"description": "会计科目代码，如 201、41101"})
    subject_name = fields.String()
    debit = fields.Money()
    credit = fields.Money()
    account_id = fields.Integer(allow_none=True, metadata={"description": "201 科目明细：个人账户"})


class VoucherSummarySchema(Schema):
    id = fields.Integer()
    voucher_no = fields.String(metadata={"description": "记账凭证号 JZPZH"})
    business_date = fields.Date()
    business_type = fields.String(metadata={"description": "业务类型代码"})
    summary = fields.String()
    reversal_of_id = fields.Integer(allow_none=True, metadata={"description": "冲销的原凭证"})
    created_by = fields.String()
    created_at = fields.DateTime()


class VoucherSchema(VoucherSummarySchema):
    reversed_by_id = fields.Integer(allow_none=True, metadata={"description": "冲销本凭证的凭证"})
    lines = fields.List(fields.Nested(EntrySchema))


class VoucherPageSchema(Schema):
    items = fields.List(fields.Nested(VoucherSummarySchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class VoucherQuerySchema(Schema):
    date_from = fields.Date(load_default=None, metadata={"description": "业务日期起（含）"})
    date_to = fields.Date(load_default=None, metadata={"description": "业务日期止（含）"})
    business_type = fields.String(load_default=None, validate=validate.Length(max=4))
    subject = fields.String(load_default=None, validate=validate.Length(max=12),
                            metadata={"description": "含该科目分录的凭证"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class ReversalSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=100))


class TrialRowSchema(Schema):
    code = fields.String()
    name = fields.String()
    normal_side = fields.String(metadata={"description": "debit 借 / credit 贷"})
    debit = fields.Money()
    credit = fields.Money()
    balance = fields.Money(metadata={"description": "按余额方向的余额；负数为反常余额"})
    leaf = fields.Boolean()


class TrialBalanceSchema(Schema):
    on = fields.Date()
    rows = fields.List(fields.Nested(TrialRowSchema))
    debit_total = fields.Money()
    credit_total = fields.Money()
    balanced = fields.Boolean()


class TrialQuerySchema(Schema):
    date = fields.Date(load_default=None, metadata={"description": "截至该业务日（含），默认今天"})


class ClosedDaySchema(Schema):
    business_date = fields.Date()
    closed_at = fields.DateTime()
    closed_by = fields.String()


@blp.route("/vouchers")
@blp.arguments(VoucherQuerySchema, location="query")
@blp.response(200, VoucherPageSchema)
@requires("ledger:view", blp)
def list_vouchers(query):
    """凭证查询：按业务日期、业务类型、科目，新在前"""
    return ledger.list_vouchers(uow(), actor(), **query)


@blp.route("/vouchers/<int:voucher_id>")
@blp.response(200, VoucherSchema)
@requires("ledger:view", blp)
def get_voucher(voucher_id):
    """单张凭证及其分录"""
    return ledger.get_voucher(uow(), actor(), voucher_id)


@blp.route("/vouchers/<int:voucher_id>/reversal", methods=["POST"])
@blp.arguments(ReversalSchema)
@blp.response(201, VoucherSchema)
@requires("ledger:post", blp)
def reverse(data, voucher_id):
    """红字冲销：按原凭证借贷互换记一张今天的冲销凭证；每张凭证只能冲销一次"""
    return ledger.reverse(uow(), actor(), who(), state().clock.now(), voucher_id, data["reason"])


@blp.route("/trial-balance")
@blp.arguments(TrialQuerySchema, location="query")
@blp.response(200, TrialBalanceSchema)
@requires("ledger:view", blp)
def trial_balance(query):
    """试算平衡表（截至某业务日）"""
    return ledger.trial_balance(uow(), actor(), query["date"] or today())


@blp.route("/days/<string:day>/close", methods=["POST"])
@blp.response(201, ClosedDaySchema)
@requires("ledger:close", blp)
def close_day(day):
    """日结：关闭该业务日（YYYY-MM-DD），此日及以前不能再记账"""
    return ledger.close_day(uow(), actor(), who(), state().clock.now(), _date(day))


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        message = "业务日期格式应为 YYYY-MM-DD"
        raise ValidationFailed(message, details={"business_date": [message]}) from None
