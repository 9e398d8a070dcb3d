"""Liveness, readiness and metrics for load balancers and Prometheus."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from hpf import metrics
from hpf.controllers.deps import state
from hpf.services import system

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Alive: the process answers (no dependencies checked)."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Ready: database reachable and schema at head; 503 otherwise (take out of rotation)."""
    result = system.readiness(state().database)
    return jsonify(status="ready" if result.ready else "not_ready",
                   checks=result.checks), 200 if result.ready else 503


@bp.get("/metrics")
def prometheus():
    body, content_type = metrics.render()
    return Response(body, content_type=content_type)
