"""Shapes of the remittance (汇缴/补缴), bank credit, interest and statement API."""

from __future__ import annotations

from hpf.schemas.base import Schema, fields, validate

MONEY = {"places": 2, "as_string": True}
MONTH = validate.Regexp(r"^\d{6}$", error="年月应为6位数字 YYYYMM")


class RemittanceSchema(Schema):
    id = fields.Integer()
    remittance_no = fields.String(metadata={"description": "汇缴单号，银行转账附言须填写"})
    unit_id = fields.Integer()
    unit_no = fields.String()
    unit_name = fields.String()
    kind = fields.String(metadata={"description": "01 汇缴 · 02 补缴"})
    kind_name = fields.String()
    month = fields.String(metadata={"description": "缴存年月（补缴为起始年月）"})
    month_to = fields.String(metadata={"description": "补缴截止年月（汇缴同 month）"})
    reason = fields.String(allow_none=True, metadata={"description": "补缴原因"})
    source = fields.String(metadata={"description": "roster 按花名册生成 · import 清册导入"})
    status = fields.String(metadata={"description": "01 待到账 02 已到账 03 已入账 04 已冲销 05 已作废"})
    status_name = fields.String()
    people = fields.Integer()
    unit_total = fields.Decimal(**MONEY)
    person_total = fields.Decimal(**MONEY)
    total = fields.Decimal(**MONEY)
    payment_reference = fields.String(metadata={"description": "单位转账时应填写的附言"})
    credited_on = fields.Date(allow_none=True)
    posted_on = fields.Date(allow_none=True)
    voucher_id = fields.Integer(allow_none=True)
    reversal_voucher_id = fields.Integer(allow_none=True)
    reversal_reason = fields.String(allow_none=True)
    created_by = fields.String()
    created_at = fields.DateTime()


class RemittancePageSchema(Schema):
    items = fields.List(fields.Nested(RemittanceSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class RemittanceQuerySchema(Schema):
    unit_id = fields.Integer()
    month = fields.String(validate=MONTH)
    status = fields.String(validate=validate.OneOf(["01", "02", "03", "04", "05"]))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class NewRemittanceSchema(Schema):
    unit_id = fields.Integer(required=True)
    month = fields.String(required=True, validate=MONTH, metadata={"description": "缴存年月 YYYYMM"})
    kind = fields.String(load_default="01", validate=validate.OneOf(["01", "02"]))
    month_to = fields.String(
        load_default=None, allow_none=True, validate=MONTH, metadata={"description": "补缴截止年月"}
    )
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))


class ImportFormSchema(Schema):
    unit_id = fields.Integer(required=True)
    month = fields.String(load_default=None, validate=MONTH)
    kind = fields.String(load_default="01", validate=validate.OneOf(["01", "02"]))
    month_to = fields.String(load_default=None, allow_none=True, validate=MONTH)
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    # The file itself is read from request.files; declared here for the OpenAPI document.
    file = fields.Raw(
        load_default=None,
        metadata={"type": "string", "format": "binary", "description": "缴存清册 .xlsx 或 .csv"},
    )


class LineSchema(Schema):
    account_id = fields.Integer()
    account_no = fields.String()
    name = fields.String()
    base = fields.Decimal(**MONEY)
    unit_amount = fields.Decimal(**MONEY)
    person_amount = fields.Decimal(**MONEY)
    amount = fields.Decimal(**MONEY)


class LinePageSchema(Schema):
    items = fields.List(fields.Nested(LineSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class PageQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class PostSchema(Schema):
    remittance_ids = fields.List(fields.Integer(), required=True, validate=validate.Length(min=1, max=200000))


class PostResultSchema(Schema):
    remittances = fields.Integer()
    lines = fields.Integer()
    total = fields.Decimal(**MONEY)
    vouchers = fields.List(fields.String())


class MatchSchema(Schema):
    credit_id = fields.Integer(required=True)


class ReasonSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=100))


class CreditSchema(Schema):
    id = fields.Integer()
    bank_ref = fields.String()
    payer_name = fields.String()
    amount = fields.Decimal(**MONEY)
    value_date = fields.Date()
    reference = fields.String()
    status = fields.String(metadata={"description": "0 未匹配 1 已匹配 2 金额不符 3 无法识别"})
    status_name = fields.String()
    note = fields.String(allow_none=True)


class MatchResultSchema(Schema):
    received = fields.Integer(metadata={"description": "本次新收到的到账笔数"})
    matched = fields.Integer()
    wrong_amount = fields.Integer()
    unknown = fields.Integer()


class SimulatedPaymentSchema(Schema):
    remittance_id = fields.Integer(required=True)
    delay_days = fields.Integer(load_default=0, validate=validate.Range(min=0, max=30))
    amount_error = fields.Decimal(
        load_default=None,
        allow_none=True,
        places=2,
        as_string=True,
        metadata={"description": "到账金额与应缴金额的差额（模拟错缴），默认 0"},
    )


class SettleSchema(Schema):
    interest_year = fields.Integer(
        required=True,
        validate=validate.Range(min=2000, max=2200),
        metadata={"description": "结息年度：该年 6 月 30 日结息"},
    )


class SettlementSchema(Schema):
    interest_year = fields.Integer()
    period_start = fields.Date()
    period_end = fields.Date()
    accounts = fields.Integer()
    total = fields.Decimal(**MONEY)
    voucher_no = fields.String(allow_none=True)
    already_settled = fields.Boolean(metadata={"description": "true：该年度已结息，本次未重复入账"})


class AccruedQuerySchema(Schema):
    to = fields.Date(required=True, metadata={"description": "销户日（当日不计息）"})


class AccumulatorSchema(Schema):
    period_from = fields.Date()
    period_to = fields.Date()
    rate = fields.Decimal(places=6, as_string=True)
    balance_days = fields.Decimal(as_string=True, metadata={"description": "积数（不舍入）"})
    portion = fields.String()


class AccruedSchema(Schema):
    account_id = fields.Integer()
    account_no = fields.String()
    period_start = fields.Date()
    to_date = fields.Date()
    interest = fields.Decimal(**MONEY)
    unrounded = fields.Decimal(as_string=True)
    accumulators = fields.List(fields.Nested(AccumulatorSchema))


class BaseFileSchema(Schema):
    file = fields.Raw(
        load_default=None,
        metadata={
            "type": "string",
            "format": "binary",
            "description": "基数调整清单 .xlsx/.csv（个人账号、姓名、缴存基数）",
        },
    )


class AdjustedSchema(Schema):
    unit_id = fields.Integer()
    checked = fields.Integer(metadata={"description": "清单行数或检查的职工数"})
    changed = fields.Integer(metadata={"description": "基数实际变更的人数"})


class MonthSchema(Schema):
    month = fields.String(required=True, validate=MONTH, metadata={"description": "缴存年月 YYYYMM"})


class ListedSchema(Schema):
    month = fields.String()
    listed = fields.Integer(metadata={"description": "本次生成的汇缴单数"})
