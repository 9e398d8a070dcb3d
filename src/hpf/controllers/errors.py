"""One error shape for every failure: ``{code, message, details, request_id}``.

JSON under /api and for health endpoints, a Chinese HTML page for the console. Never a
stack trace to a client: unexpected errors are logged with the request id and answered
with a 500 that carries the same id, so an operator can find the log line.
"""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, redirect, render_template, request, url_for
from flask_smorest import Api
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from hpf.domain.errors import HpfError
from hpf.schemas.common import ErrorSchema
from hpf_adapters.db import first_line

log = logging.getLogger("hpf.http")

# Stable codes and Chinese messages for HTTP-level failures
_HTTP = {
    400: ("bad_request", "请求格式错误"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "没有执行该操作的权限"),
    404: ("not_found", "请求的资源不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    409: ("conflict", "与当前数据状态冲突"),
    413: ("payload_too_large", "请求体过大"),
    415: ("unsupported_media_type", "请求体须为 application/json"),
    422: ("validation_error", "提交的数据未通过校验"),
    429: ("too_many_requests", "请求过于频繁，请稍后重试"),
    500: ("internal_error", "系统内部错误，请联系管理员并提供请求编号"),
    503: ("service_unavailable", "服务暂不可用"),
}


def wants_json() -> bool:
    path = request.path
    return path.startswith(("/api/", "/healthz", "/readyz", "/metrics")) or request.is_json


def error_response(status: int, code: str, message: str, details=None):
    body = {"code": code, "message": message, "details": details or {},
            "request_id": getattr(g, "request_id", "-")}
    if wants_json():
        response = jsonify(body)
        response.status_code = status
        return response
    return render_template("error.html", status=status, **body), status


class HpfApi(Api):
    """flask-smorest's Api with our error shape (in responses and in the OpenAPI document)."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException):
        return http_error_response(error)


def http_error_response(error: HTTPException):
    status = error.code or 500
    code, message = _HTTP.get(status, ("http_error", error.name))
    data = getattr(error, "data", None) or {}
    details = data.get("messages")  # webargs/marshmallow field errors
    if status == 422 and isinstance(details, dict) and len(details) == 1:
        details = next(iter(details.values()))  # {"json": {...}} -> {...}
    if status == 405:
        details = {"allowed": sorted(getattr(error, "valid_methods", None) or [])}
    return error_response(status, code, message, details)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HpfError)
    def _hpf_error(error: HpfError):
        from hpf.controllers import deps

        if error.status >= 500:
            log.error("service error", extra={"code": error.code, "error": error.for_operator})
        if error.status == 403 and not isinstance(error, deps.PasswordChangeRequired):
            deps.record_denied(error)
        if not wants_json() and request.method == "GET":
            # The console: sign in (keeping the page asked for), or change the password first.
            if error.status == 401:
                return redirect(url_for("console.login_form", next=request.full_path.rstrip("?"),
                                        expired=1 if error.code == "session_expired" else None))
            if isinstance(error, deps.PasswordChangeRequired):
                return redirect(url_for("console.password_form"))
        return error_response(error.status, error.code, error.message, error.details)

    @app.errorhandler(OperationalError)
    def _database_unavailable(error: OperationalError):
        # Lost connection, server down, lock wait timeout, deadlock: worth retrying later.
        log.error("database unavailable", extra={"error": first_line(error)})
        return error_response(503, "database_unavailable", "数据库暂不可用，请稍后重试")

    @app.errorhandler(IntegrityError)
    def _integrity(error: IntegrityError):
        # A race the service did not anticipate (two requests creating the same key).
        log.warning("integrity conflict", extra={"error": first_line(error)})
        return error_response(409, "conflict", "数据已被其他操作修改或重复提交，请刷新后重试")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if isinstance(error, HTTPException):  # routes outside flask-smorest's reach
            return http_error_response(error)
        log.exception("unhandled error")
        code, message = _HTTP[500]
        return error_response(500, code, message)
