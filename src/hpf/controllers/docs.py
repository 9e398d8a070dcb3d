"""Swagger UI assets served locally: a centre's intranet has no CDN."""

from __future__ import annotations

from flask import Blueprint, send_from_directory
from swagger_ui_bundle import swagger_ui_path

bp = Blueprint("api_docs_static", __name__)


@bp.get("/api/docs/static/<path:filename>")
def asset(filename: str):
    return send_from_directory(swagger_ui_path, filename, max_age=86400)
