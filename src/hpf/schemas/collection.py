"""Shapes of the collection API (归集): units (单位) and individual accounts (个人账户)."""

from __future__ import annotations

from hpf.schemas.base import Schema, fields, validate

RATIO = {"metadata": {"description": "比例，小数表示：0.12 = 12%"}, "places": 4, "as_string": True}


class UnitSchema(Schema):
    id = fields.Integer()
    unit_no = fields.String(metadata={"description": "单位账号 DWZH"})
    credit_code = fields.String(metadata={"description": "统一社会信用代码"})
    name = fields.String()
    org_id = fields.Integer(metadata={"description": "管理机构（分中心/管理部）"})
    org_name = fields.String()
    status = fields.String(metadata={"description": "单位账户状态：01 正常 02 开户 03 缓缴 04 销户 05 封存"})
    status_name = fields.String()
    unit_ratio = fields.Decimal(**RATIO)
    person_ratio = fields.Decimal(**RATIO)
    deposit_day = fields.Integer()
    bank_name = fields.String()
    bank_account = fields.String(metadata={"description": "已脱敏"})
    contact_name = fields.String()
    contact_phone = fields.String(metadata={"description": "已脱敏"})
    paid_up_to = fields.String(allow_none=True, metadata={"description": "缴至年月 YYYYMM"})
    opened_on = fields.Date()
    closed_on = fields.Date(allow_none=True)
    staff_count = fields.Integer(metadata={"description": "正常和冻结状态的职工账户数"})
    operations = fields.List(fields.String(), metadata={"description": "当前状态允许的业务"})


class UnitPageSchema(Schema):
    items = fields.List(fields.Nested(UnitSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class UnitQuerySchema(Schema):
    q = fields.String(load_default="", validate=validate.Length(max=100),
                      metadata={"description": "单位名称（包含）、统一社会信用代码或单位账号"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class NewUnitSchema(Schema):
    credit_code = fields.String(required=True, validate=validate.Length(max=40))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    org_id = fields.Integer(required=True, metadata={"description": "管理机构（分中心/管理部）"})
    unit_ratio = fields.Decimal(required=True, **RATIO)
    person_ratio = fields.Decimal(required=True, **RATIO)
    deposit_day = fields.Integer(required=True, validate=validate.Range(min=1, max=28))
    bank_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    bank_account = fields.String(required=True, validate=validate.Length(min=1, max=32))
    contact_name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    contact_phone = fields.String(required=True, validate=validate.Length(min=1, max=20))


class UnitChangeSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=100))
    unit_ratio = fields.Decimal(**RATIO)
    person_ratio = fields.Decimal(**RATIO)
    deposit_day = fields.Integer(validate=validate.Range(min=1, max=28))
    bank_name = fields.String(validate=validate.Length(min=1, max=100))
    bank_account = fields.String(validate=validate.Length(min=1, max=32))
    contact_name = fields.String(validate=validate.Length(min=1, max=60))
    contact_phone = fields.String(validate=validate.Length(min=1, max=20))


class DeferralSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=2, max=200),
                           metadata={"description": "缓缴理由（职代会或工会意见）"})


class AccountSchema(Schema):
    id = fields.Integer()
    account_no = fields.String(metadata={"description": "个人账号 GRZH"})
    person_id = fields.Integer()
    name = fields.String()
    id_type = fields.String()
    id_type_name = fields.String()
    id_number = fields.String(metadata={"description": "已脱敏"})
    phone = fields.String(metadata={"description": "已脱敏"})
    status = fields.String(metadata={"description": "个人账户状态：01 正常 02 封存 06 冻结 …"})
    status_name = fields.String()
    balance = fields.Money()
    deposit_base = fields.Money(allow_none=True)
    unit_id = fields.Integer(allow_none=True)
    unit_no = fields.String(allow_none=True)
    unit_name = fields.String(allow_none=True)
    opened_on = fields.Date()
    closed_on = fields.Date(allow_none=True)
    operations = fields.List(fields.String(), metadata={"description": "当前状态允许的业务"})


class AccountQuerySchema(Schema):
    id_number = fields.String(validate=validate.Length(max=32), metadata={"description": "证件号码（精确）"})
    account_no = fields.String(validate=validate.Length(max=20), metadata={"description": "个人账号"})


class NewAccountSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    id_type = fields.String(load_default="01", metadata={"description": "证件类型：01 居民身份证 …"})
    id_number = fields.String(required=True, validate=validate.Length(min=1, max=32))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    unit_id = fields.Integer(required=True)
    deposit_base = fields.Decimal(required=True, as_string=True)


class MoveSchema(Schema):
    unit_id = fields.Integer(required=True, metadata={"description": "新单位"})
    deposit_base = fields.Decimal(required=True, as_string=True)


class BaseChangeSchema(Schema):
    deposit_base = fields.Decimal(required=True, as_string=True)
