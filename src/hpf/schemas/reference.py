"""Organisations, code tables, parameters, sign-in."""

from __future__ import annotations

from hpf.schemas.base import Schema, fields, validate


class OrgSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String(metadata={"description": "centre 中心 | branch 分中心/管理部 | counter 网点"})
    parent_code = fields.String(allow_none=True)
    region_code = fields.String(allow_none=True)
    active = fields.Boolean()


class CodeItemSchema(Schema):
    code = fields.String()
    name = fields.String()
    active = fields.Boolean()
    local = fields.Boolean(metadata={"description": "本中心扩展的代码项（非标准代码）"})


class NewCodeItemSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=16))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class CodeItemChangeSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=100))
    active = fields.Boolean()


class CodeTableSummarySchema(Schema):
    code = fields.String()
    name = fields.String()
    standard = fields.String()


class CodeTableSchema(CodeTableSummarySchema):
    items = fields.List(fields.Nested(CodeItemSchema))


class ParamPeriodSchema(Schema):
    value = fields.String()
    effective_from = fields.Date()
    effective_to = fields.Date(allow_none=True, metadata={"description": "含当日；空为长期有效"})
    source = fields.String()


class ParamSchema(Schema):
    code = fields.String(attribute="spec.code")
    name = fields.String(attribute="spec.name")
    value_type = fields.String(attribute="spec.value_type")
    unit = fields.String(attribute="spec.unit")
    min_value = fields.String(attribute="spec.min_value", allow_none=True)
    max_value = fields.String(attribute="spec.max_value", allow_none=True)
    choices = fields.List(fields.String(), attribute="spec.choices")
    description = fields.String(attribute="spec.description")
    on = fields.Date(metadata={"description": "查询的业务日期"})
    value = fields.String(attribute="current.value", allow_none=True,
                          metadata={"description": "该日期生效的取值"})
    effective_from = fields.Date(attribute="current.effective_from", allow_none=True)
    history = fields.List(fields.Nested(ParamPeriodSchema))


class NewParamValueSchema(Schema):
    value = fields.String(required=True, validate=validate.Length(min=1, max=200))
    effective_from = fields.Date(required=True, metadata={"description": "生效日期，不早于今天"})
    source = fields.String(load_default="", validate=validate.Length(max=200),
                           metadata={"description": "依据 (文号)"})


class LoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, load_only=True,
                             validate=validate.Length(min=1, max=128))


class PasswordChangeSchema(Schema):
    old_password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=128))
    new_password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=128))


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    org_code = fields.String()
    org_name = fields.String()
