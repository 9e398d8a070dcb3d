"""Application factory: ``create_app(settings=None)`` builds one HPF Core WSGI application."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from hpf import __version__
from hpf.config import Settings, load_settings
from hpf.crypto import runtime as crypto_runtime
from hpf.jobs import JobRegistry, load_jobs
from hpf.logs import configure_logging
from hpf.repositories.database import open_app_database
from hpf.services.clock import Clock
from hpf_adapters.db import Database


@dataclass
class AppState:
    """What request handlers need, kept on ``app.extensions["hpf"]`` (no globals)."""

    settings: Settings
    database: Database
    clock: Clock
    jobs: JobRegistry


def create_app(settings: Settings | None = None, *, database: Database | None = None,
               clock: Clock | None = None) -> Flask:
    settings = settings or load_settings()
    configure_logging(settings.log.level, settings.log.format)
    # National crypto must prove itself before anything is served (power-on self-test).
    crypto_runtime.start(settings.crypto)
    if settings.secret_key_generated:
        logging.getLogger("hpf").warning(
            "HPF_SECRET_KEY is not set: using a key generated in the instance folder "
            "(evaluation only; set HPF_SECRET_KEY or HPF_SECRET_KEY_FILE in production)")
    app = Flask("hpf", instance_path=settings.instance_path,
                template_folder="web/templates", static_folder="web/static")
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="hpf_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.security.session_absolute_hours),
        MAX_CONTENT_LENGTH=32 * 1024 * 1024,
        API_TITLE="HPF Core 住房公积金综合业务平台 API",
        API_VERSION=f"v1 ({__version__})",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/api/docs/static/",
    )
    app.json.ensure_ascii = False  # Chinese text stays readable in JSON
    app.extensions["hpf"] = AppState(settings, database or open_app_database(settings),
                                     clock or Clock(), load_jobs())
    if settings.server.proxy_count:
        n = settings.server.proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    from hpf.controllers import register

    register(app)
    return app
