"""Shapes shared by every endpoint."""

from __future__ import annotations

from hpf.schemas.base import Schema, fields


class ErrorSchema(Schema):
    code = fields.String(required=True, metadata={"description": "稳定的错误代码，供程序判断"})
    message = fields.String(required=True, metadata={"description": "中文错误说明"})
    details = fields.Dict(metadata={"description": "字段级错误 {字段: [说明]} 或其他细节"})
    request_id = fields.String(required=True, metadata={"description": "请求编号，用于查日志"})


class DateQuerySchema(Schema):
    on = fields.Date(metadata={"description": "业务日期 (默认今天)"})
