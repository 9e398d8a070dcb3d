"""Shapes of the statement API (明细对账单): one account's or one unit's account detail."""

from __future__ import annotations

from hpf.schemas.base import Schema, fields, validate

MONTH = {"validate": validate.Regexp(r"^\d{4}(0[1-9]|1[0-2])$", error="所属年月格式应为 YYYYMM"),
         "load_default": None}


class AccountStatementQuerySchema(Schema):
    date_from = fields.Date(load_default=None, metadata={"description": "记账（起息）日期起（含）"})
    date_to = fields.Date(load_default=None, metadata={"description": "记账（起息）日期止（含）"})
    business_type = fields.String(load_default=None, validate=validate.Length(max=2),
                                  metadata={"description": "归集业务类型，如 01 汇缴、09 年终结息；"
                                                           "按类型筛选时不显示余额"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class AccountExportQuerySchema(AccountStatementQuerySchema):
    class Meta:
        exclude = ("page", "per_page")


class UnitStatementQuerySchema(AccountStatementQuerySchema):
    month_from = fields.String(metadata={"description": "所属年月起 YYYYMM"}, **MONTH)
    month_to = fields.String(metadata={"description": "所属年月止 YYYYMM"}, **MONTH)


class UnitExportQuerySchema(UnitStatementQuerySchema):
    class Meta:
        exclude = ("page", "per_page")


class StatementLineSchema(Schema):
    id = fields.Integer()
    value_date = fields.Date(metadata={"description": "记账（起息）日期"})
    business_type = fields.String(metadata={"description": "归集业务类型"})
    business_type_name = fields.String()
    amount = fields.Money(metadata={"description": "发生额：正数存入，负数支出"})
    income = fields.Money(allow_none=True, metadata={"description": "收入"})
    expense = fields.Money(allow_none=True, metadata={"description": "支出（正数）"})
    unit_part = fields.Money(allow_none=True, metadata={"description": "单位部分"})
    person_part = fields.Money(allow_none=True, metadata={"description": "个人部分"})
    month = fields.String(allow_none=True, metadata={"description": "所属年月 YYYYMM"})
    reversal = fields.Boolean(metadata={"description": "冲账行"})
    voucher_id = fields.Integer()
    voucher_no = fields.String(metadata={"description": "记账凭证号"})
    balance = fields.Money(allow_none=True, metadata={"description": "本行后余额；按业务类型筛选时为空"})
    account_id = fields.Integer()
    account_no = fields.String()
    name = fields.String(metadata={"description": "姓名"})


class AccountHeaderSchema(Schema):
    id = fields.Integer()
    account_no = fields.String(metadata={"description": "个人账号"})
    name = fields.String()
    id_number = fields.String(metadata={"description": "证件号码（已脱敏）"})
    unit_id = fields.Integer(allow_none=True)
    unit_no = fields.String(allow_none=True)
    unit_name = fields.String(allow_none=True)
    status = fields.String()
    status_name = fields.String()
    balance = fields.Money(metadata={"description": "当前余额"})


class AccountStatementSchema(Schema):
    header = fields.Nested(AccountHeaderSchema)
    date_from = fields.Date(allow_none=True)
    date_to = fields.Date(allow_none=True)
    business_type = fields.String(allow_none=True)
    opening = fields.Money(allow_none=True, metadata={"description": "期初余额（起始日期前）"})
    page_opening = fields.Money(allow_none=True, metadata={"description": "本页第一行之前的余额"})
    closing = fields.Money(allow_none=True, metadata={"description": "期末余额"})
    income = fields.Money(metadata={"description": "收入合计（全部符合条件的明细）"})
    expense = fields.Money(metadata={"description": "支出合计（全部符合条件的明细）"})
    lines = fields.List(fields.Nested(StatementLineSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class TypeTotalSchema(Schema):
    business_type = fields.String()
    business_type_name = fields.String()
    lines = fields.Integer()
    amount = fields.Money()
    unit_part = fields.Money()
    person_part = fields.Money()


class UnitStatementSchema(Schema):
    unit_id = fields.Integer()
    unit_no = fields.String()
    unit_name = fields.String()
    org_name = fields.String()
    status_name = fields.String()
    by_type = fields.List(fields.Nested(TypeTotalSchema), metadata={"description": "按业务类型合计"})
    amount = fields.Money(metadata={"description": "发生额合计"})
    income = fields.Money()
    expense = fields.Money()
    lines = fields.List(fields.Nested(StatementLineSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
