"""Typed errors with a stable ``code``, an HTTP ``status`` and a Chinese message.

Every layer raises these; one handler (controllers/errors.py) renders them as
``{code, message, details, request_id}``. ``code`` is for programs and never changes once
published; ``message`` is for people.
"""

from __future__ import annotations

from typing import Any


class HpfError(Exception):
    code = "error"
    status = 400
    message = "请求无法处理"

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 details: Any = None, internal: str | None = None) -> None:
        self.message = message or type(self).message
        if code:
            self.code = code
        self.details = details
        # For operators and logs only (e.g. which server was unreachable); never sent to a
        # client, whose message must not reveal hosts, users or SQL.
        self.internal = internal
        super().__init__(self.message)

    @property
    def for_operator(self) -> str:
        return self.internal or self.message


class BadRequest(HpfError):
    code = "bad_request"
    status = 400
    message = "请求格式错误"


class Unauthorized(HpfError):
    code = "unauthorized"
    status = 401
    message = "请先登录"


class Forbidden(HpfError):
    code = "forbidden"
    status = 403
    message = "没有执行该操作的权限"


class NotFound(HpfError):
    code = "not_found"
    status = 404
    message = "请求的资源不存在"


class Conflict(HpfError):
    code = "conflict"
    status = 409
    message = "与当前数据状态冲突"


class ValidationFailed(HpfError):
    """Input broke a rule; ``details`` maps field names to lists of messages."""

    code = "validation_error"
    status = 422
    message = "提交的数据未通过校验"


class ServiceUnavailable(HpfError):
    code = "service_unavailable"
    status = 503
    message = "服务暂不可用"


class ConfigError(HpfError):
    """The operator's configuration is wrong; raised before anything is served."""

    code = "config_error"
    status = 500
    message = "配置错误"
