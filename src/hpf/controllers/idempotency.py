"""The ``Idempotency-Key`` header on the JSON API's POSTs and PATCHes (幂等键).

Runs after hooks.py's request plumbing: claims the key before the handler, stores the
response afterwards (handler output and error JSON alike, if below 500), and replays a
stored response with ``Idempotency-Replayed: true``. Not applied to the session endpoints
(log-in, passwords, one-time-code secrets) nor to issuing an API token: their requests and
responses carry credentials that must not be kept.
"""

from __future__ import annotations

import hashlib
import json
import logging

from apispec import BasePlugin
from flask import Flask, Response, g, request

from hpf.controllers.deps import actor, state, uow
from hpf.services import idempotency

HEADER = "Idempotency-Key"
REPLAYED = "Idempotency-Replayed"
METHODS = ("POST", "PATCH")
PREFIX = "/api/v1/"
EXCLUDED_ENDPOINTS = ("session.", "tokens.issue")  # Flask endpoint names (prefix match)
EXCLUDED_PATHS = (("", "/api/v1/session"), ("post", "/api/v1/tokens"))  # the same, for the spec

log = logging.getLogger("hpf.http")


def register(app: Flask, api=None) -> None:
    """Hook into requests; with ``api`` (flask-smorest), document the header on every
    POST/PATCH under /api/v1 registered afterwards."""
    app.before_request(_claim)
    app.after_request(_keep)
    app.teardown_request(_release_on_error)
    if api is not None:
        _document(api.spec)


def _applies() -> bool:
    return (request.method in METHODS and request.path.startswith(PREFIX)
            and request.url_rule is not None and HEADER in request.headers
            and not (request.endpoint or "").startswith(EXCLUDED_ENDPOINTS))


def _claim():
    if not _applies():
        return None
    key = idempotency.check_key(request.headers[HEADER])  # 400 before anything else
    principal = actor()  # unauthenticated: the same 401 the handler would give
    who = f"token:{principal.token_id}" if principal.token_id else f"user:{principal.id}"
    req = idempotency.keyed_request(who, key, request.method, request.full_path.rstrip("?"), _body())
    stored = idempotency.begin(uow(), req, state().clock.now())
    if stored is None:
        g.idempotent_request = req
        return None
    response = Response(stored.body or None, status=stored.status,
                        mimetype="application/json" if stored.body else None)
    response.headers[REPLAYED] = "true"
    return response


def _body() -> bytes:
    """The body in a canonical form, so that a resend with keys in another order matches.
    A file upload is hashed by its fields and file contents (the multipart boundary differs
    on every resend)."""
    if request.mimetype == "multipart/form-data":
        digest = hashlib.sha256()
        for name, value in sorted(request.form.items(multi=True)):
            digest.update(f"{name}={value}\x1f".encode())
        for name, upload in sorted(request.files.items(multi=True), key=lambda kv: kv[0]):
            digest.update(f"{name}:{upload.filename}\x1f".encode())
            digest.update(upload.read())
            upload.seek(0)
        return digest.hexdigest().encode()
    raw = request.get_data(cache=True)
    try:
        return json.dumps(json.loads(raw), sort_keys=True, ensure_ascii=False,
                          separators=(",", ":")).encode("utf-8") if raw else b""
    except (ValueError, UnicodeDecodeError):
        return raw


def _keep(response: Response) -> Response:
    req = g.pop("idempotent_request", None)
    if req is None:
        return response
    body = None
    if response.status_code < 500 and not response.is_streamed:
        text = response.get_data(as_text=True)
        if not text or response.is_json:
            body = text
    try:
        if body is None:  # nothing to replay faithfully: let a retry run
            idempotency.release(uow(), req)
        else:
            idempotency.finish(uow(), req, response.status_code, body)
    except Exception:  # the handler's work stands: answer it; the key stays "in progress"
        log.exception("could not keep the response of an idempotent request")
    return response


def _release_on_error(_exc) -> None:
    req = g.pop("idempotent_request", None)  # still here: no response was produced
    if req is not None:
        try:
            idempotency.release(uow(), req)
        except Exception:
            log.exception("could not release an idempotency key")


def _document(spec) -> None:
    spec.components.parameter("IdempotencyKey", "header", {
        "name": HEADER,
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[\\x21-\\x7E]{1,64}$"},
        "description": (
            "幂等键（可选，1–64 个可见 ASCII 字符）：同一登录用户或令牌以同一键重发同一请求（方法、路径、"
            "请求体相同）时不再执行，直接返回首次的状态码与响应体，并带响应头 Idempotency-Replayed: true；"
            "同一键用于不同请求返回 422 idempotency_key_reused，首次请求仍在处理时返回 409 "
            "idempotency_in_progress，键格式错误返回 400 idempotency_key_invalid。只保存状态码小于 500 "
            "的响应；保存 24 小时。"),
    })
    spec.plugins.append(_HeaderPlugin())


class _HeaderPlugin(BasePlugin):
    """An apispec plugin: adds the header parameter to POST/PATCH operations under /api/v1."""

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        if not path or not path.startswith(PREFIX) or not operations:
            return
        for method, operation in operations.items():
            if method.upper() not in METHODS or _excluded_path(method, path):
                continue
            params = operation.setdefault("parameters", [])
            if "IdempotencyKey" not in params:
                params.append("IdempotencyKey")  # a component id: apispec turns it into a $ref


def _excluded_path(method: str, path: str) -> bool:
    return any((not m or m == method) and (path == p or path.startswith(p + "/")) for m, p in EXCLUDED_PATHS)
