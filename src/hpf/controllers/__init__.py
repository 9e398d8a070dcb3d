"""Controllers: Flask blueprints that parse, call one service, and render. No SQL, no rules."""

from __future__ import annotations

from flask import Flask

from hpf.controllers import console, docs, health, hooks, idempotency, public
from hpf.controllers.api import (
    accounts,
    approvals,
    audit,
    certificates,
    codes,
    jobs,
    ledger,
    orgs,
    params,
    remittances,
    roles,
    session,
    statements,
    system,
    tokens,
    units,
    users,
)
from hpf.controllers.errors import HpfApi, register_error_handlers

API_BLUEPRINTS = (
    system.blp,
    session.blp,
    users.blp,
    roles.blp,
    orgs.blp,
    approvals.blp,
    tokens.blp,
    params.blp,
    codes.blp,
    jobs.blp,
    audit.blp,
    units.blp,
    accounts.blp,
    ledger.blp,
    certificates.blp,
    remittances.blp,
    remittances.interest_blp,
    remittances.bases_blp,
    statements.blp,
)
WEB_BLUEPRINTS = (health.bp, docs.bp, console.bp, public.bp)


def register(app: Flask) -> None:
    hooks.register(app)
    register_error_handlers(app)
    api = HpfApi(
        app,
        spec_kwargs={
            "info": {
                "description": (
                    "HPF Core 的 JSON API。所有错误均返回 {code, message, details, request_id}；"
                    "写操作需先登录 (POST /api/v1/session)。"
                )
            }
        },
    )
    api.spec.components.security_scheme(
        "session",
        {
            "type": "apiKey",
            "in": "cookie",
            "name": app.config["SESSION_COOKIE_NAME"],
            "description": "登录后由 POST /api/v1/session 设置的会话 Cookie",
        },
    )
    api.spec.components.security_scheme(
        "token",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "接口令牌（POST /api/v1/tokens 申请）：Authorization: Bearer hpf_<前缀>_<密钥>",
        },
    )
    idempotency.register(app, api)  # before the blueprints: documents their POST/PATCH
    for blp in API_BLUEPRINTS:
        api.register_blueprint(blp)
    for bp in WEB_BLUEPRINTS:
        app.register_blueprint(bp)
