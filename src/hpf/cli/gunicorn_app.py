"""Gunicorn embedded: production defaults, JSON logs, multi-process metrics."""

from __future__ import annotations

import json
import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from hpf.config import Settings
from hpf.logs import JsonFormatter

SHM = "/dev/shm"  # noqa: S108 - gunicorn's documented choice for worker_tmp_dir


class JsonGunicornLogger(Logger):
    """Access log as one JSON object per request (with the application's request id)."""

    def setup(self, cfg):
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())
        for handler in self.access_log.handlers:
            handler.setFormatter(logging.Formatter("%(message)s"))

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        headers = dict((k.lower(), v) for k, v in (resp.headers or []))
        entry = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"), "logger": "access",
            "remote": environ.get("REMOTE_ADDR"),
            "method": environ.get("REQUEST_METHOD"), "path": environ.get("PATH_INFO"),
            "query": environ.get("QUERY_STRING") or None, "status": resp.status_code,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 2),
            "request_id": headers.get("x-request-id"),
            "user_agent": environ.get("HTTP_USER_AGENT"),
        }
        self.access_log.info(json.dumps(entry, ensure_ascii=False))


def default_workers() -> int:
    # Gunicorn's advice (2 x cores + 1), capped: each worker holds a database pool.
    return min(2 * (os.cpu_count() or 1) + 1, 16)


def _report_listeners(settings: Settings):
    """when_ready hook: which listener speaks which protocol, and the certificates' expiry."""

    def when_ready(server):
        from hpf.tlcp.server import describe

        for level, line in describe(settings):
            server.log.log(level, line)

    return when_ready


def _child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


class HpfGunicorn(BaseApplication):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        s = self.settings.server
        options = {
            "bind": s.bind,
            "workers": s.workers or default_workers(),
            "threads": s.threads,
            "worker_class": "gthread" if s.threads > 1 else "sync",
            "timeout": s.timeout,
            "graceful_timeout": s.graceful_timeout,
            "keepalive": s.keepalive,
            "max_requests": s.max_requests,
            "max_requests_jitter": s.max_requests_jitter,
            "accesslog": s.access_log or None,
            "errorlog": "-",
            "loglevel": self.settings.log.level.lower(),
            "logger_class": JsonGunicornLogger if self.settings.log.format == "json" else Logger,
            "proc_name": "hpf-core",
            "pidfile": s.pid_file or None,
            "child_exit": _child_exit,
            "forwarded_allow_ips": "*" if s.proxy_count else "127.0.0.1",
        }
        if self.settings.tlcp.enabled:
            from hpf.tlcp import server as tlcp_server

            options["bind"] = tlcp_server.binds(self.settings)
            options["worker_class"] = (tlcp_server.TlcpThreadWorker if s.threads > 1
                                       else tlcp_server.TlcpSyncWorker)
            # os.sendfile would write file bodies past the record protection
            options["sendfile"] = False
            options["when_ready"] = _report_listeners(self.settings)
            # One session store for all workers (created now, before they fork), removed at exit.
            tlcp_server.open_shared_sessions(self.settings)
            options["on_exit"] = lambda server: tlcp_server.close_shared_sessions()
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn >= 25 opens a control socket; operators use signals and systemd, and a
            # USR2 upgrade would have the old master delete the new one's socket.
            options["control_socket_disable"] = True
        if Path(SHM).is_dir():
            options["worker_tmp_dir"] = SHM  # worker heartbeat files off slow disks
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self):
        from hpf.app import create_app

        return create_app(self.settings)


def prepare_metrics_dir(settings: Settings) -> None:
    """One fresh directory per server start for prometheus_client's multiprocess files.

    A master re-executed by USR2 (gunicorn sets GUNICORN_PID) keeps the directory: the old
    workers are still serving and writing into it.
    """
    path = Path(settings.instance_path) / "prometheus"
    if "GUNICORN_PID" not in os.environ:
        shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)


def run(settings: Settings) -> None:
    prepare_metrics_dir(settings)
    HpfGunicorn(settings).run()
