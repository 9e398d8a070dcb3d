"""Schema and field classes with Chinese messages, for every schema in the project.

Import fields from here (``from hpf.schemas.base import fields``), never from marshmallow
directly, so that every validation message a user sees is Chinese and names the rule.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP
from types import SimpleNamespace
from typing import ClassVar

import marshmallow
from marshmallow import fields as mf
from marshmallow import validate as mv

_FIELD = {"required": "必填项", "null": "不能为空", "validator_failed": "取值无效"}


def _zh(cls, **messages):
    return type(cls.__name__, (cls,), {"default_error_messages": {**_FIELD, **messages}})


String = _zh(mf.String, invalid="应为文本", invalid_utf8="不是有效的 UTF-8 文本")
Integer = _zh(mf.Integer, invalid="应为整数", too_large="数值过大")
Decimal = _zh(mf.Decimal, invalid="应为数值", too_large="数值过大",
              special="不允许 NaN 或无穷大")
Date = _zh(mf.Date, invalid="应为日期，格式 YYYY-MM-DD", format="无法格式化为日期")
DateTime = _zh(mf.DateTime, invalid="应为日期时间 (ISO 8601)",
               invalid_awareness="应为带时区的日期时间", format="无法格式化为日期时间")
Boolean = _zh(mf.Boolean, invalid="应为 true 或 false")
Nested = _zh(mf.Nested, type="类型无效")
List = _zh(mf.List, invalid="应为列表")
Dict = _zh(mf.Dict, invalid="应为对象")
Raw = _zh(mf.Raw)  # an uploaded file (location="files")


def Money(**kwargs):
    """Yuan with fen, as a string in JSON so that no client turns it into a float."""
    return Decimal(places=2, rounding=ROUND_HALF_UP, as_string=True, **kwargs)


fields = SimpleNamespace(String=String, Integer=Integer, Decimal=Decimal, Date=Date,
                         DateTime=DateTime, Boolean=Boolean, Nested=Nested, List=List,
                         Dict=Dict, Money=Money, Raw=Raw)


class Length(mv.Length):
    message_min = "长度不能少于 {min}"
    message_max = "长度不能超过 {max}"
    message_all = "长度应在 {min} 至 {max} 之间"
    message_equal = "长度应为 {equal}"


class Range(mv.Range):
    message_min = "应{min_op} {{min}}"
    message_max = "应{max_op} {{max}}"
    message_all = "应{min_op} {{min}} 且{max_op} {{max}}"
    message_gte = "大于等于"
    message_gt = "大于"
    message_lte = "小于等于"
    message_lt = "小于"


def OneOf(choices, **kwargs):
    return mv.OneOf(choices, error="应为以下之一: {choices}", **kwargs)


def Regexp(regex, error: str, **kwargs):
    return mv.Regexp(regex, error=error, **kwargs)


validate = SimpleNamespace(Length=Length, Range=Range, OneOf=OneOf, Regexp=Regexp)


class Schema(marshmallow.Schema):
    error_messages: ClassVar = {"type": "数据格式无效，应为 JSON 对象", "unknown": "不允许的字段"}

    class Meta:
        ordered = True
