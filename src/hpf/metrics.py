"""Prometheus metrics: request count and latency per endpoint.

Under gunicorn each worker is a process; ``hpf serve`` sets PROMETHEUS_MULTIPROC_DIR so
that /metrics aggregates all workers (prometheus_client multiprocess mode).
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from hpf import __version__

REQUESTS = Counter("hpf_http_requests_total", "HTTP requests handled",
                   ["method", "endpoint", "status"])
LATENCY = Histogram("hpf_http_request_duration_seconds", "HTTP request latency",
                    ["method", "endpoint"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
BUILD = Gauge("hpf_build_info", "HPF Core build", ["version"], multiprocess_mode="liveall")
BUILD.labels(__version__).set(1)


def observe(method: str, endpoint: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, endpoint, str(status)).inc()
    LATENCY.labels(method, endpoint).observe(seconds)


def render() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
