"""Per-request plumbing: request id, JSON body checks, metrics, security headers."""

from __future__ import annotations

import json
import re
import time
import uuid

from flask import Flask, g, request

from hpf import metrics
from hpf.domain.errors import BadRequest, HpfError
from hpf.logs import request_id_var

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
CONSOLE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


class UnsupportedMediaType(HpfError):
    code = "unsupported_media_type"
    status = 415
    message = "请求体须为 application/json"


def register(app: Flask) -> None:
    @app.before_request
    def _start():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g._token = request_id_var.set(g.request_id)
        g._started = time.perf_counter()
        if request.path.startswith("/api/") and request.method in ("POST", "PUT", "PATCH"):
            _check_json_body()

    @app.after_request
    def _finish(response):
        response.headers["X-Request-ID"] = g.get("request_id", "-")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.path.startswith("/api/v1/"):
            response.headers.setdefault("Cache-Control", "no-store")
        elif not request.path.startswith("/api/"):
            # The console: no inline script or style anywhere, so a stored XSS has nothing to run.
            response.headers.setdefault("Content-Security-Policy", CONSOLE_CSP)
            if request.blueprint == "console" or response.mimetype == "text/html":
                response.headers.setdefault("Cache-Control", "no-store")  # pages show personal data
        started = g.get("_started")
        if started is not None:
            endpoint = request.url_rule.rule if request.url_rule else "<unmatched>"
            metrics.observe(request.method, endpoint, response.status_code,
                            time.perf_counter() - started)
        return response

    @app.teardown_request
    def _teardown(_exc):
        token = g.pop("_token", None)
        if token is not None:
            request_id_var.reset(token)


def _check_json_body() -> None:
    """415 for a body that is not JSON, 400 for JSON that does not parse (nothing is run).
    A file upload (multipart/form-data) is left to the endpoint's form and file schemas."""
    if request.mimetype == "multipart/form-data":
        return
    raw = request.get_data(cache=True)
    if not raw:
        return
    if not request.is_json:
        raise UnsupportedMediaType(details={"content_type": request.content_type or ""})
    try:
        json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("请求体不是合法的 JSON", code="malformed_json",
                         details={"position": getattr(exc, "pos", None)}) from None
