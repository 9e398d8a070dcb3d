"""`hpf serve` for real: gunicorn workers over each database, JSON logs, metrics, signals."""

import json
import os
import signal
import time
from datetime import UTC, datetime

import requests

from hpf.repositories.uow import UnitOfWork
from hpf.services import users
from hpf.services.audit import Who
from hpf.services.demo import load_demo_centre
from tests.conftest import TEST_KEK, api_login


def test_serve_on_each_database(database, start_server, tmp_path):
    load_demo_centre(UnitOfWork(database))
    server = start_server("serve", "--workers", "2", env={
        "HPF_DATABASE_URL": database.resolved.raw, "HPF_CRYPTO_KEK": TEST_KEK,
        "HPF_INSTANCE_PATH": str(tmp_path / "instance")})
    http = requests.Session()
    ready = http.get(server.base + "/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert http.get(server.base + "/api/v1/system/info").status_code == 401
    login = http.post(server.base + "/api/v1/session",
                      json={"username": "teller01", "password": "Demo@2026"})
    assert login.status_code == 200 and login.json()["org_code"] == "001001"
    assert http.get(server.base + "/api/v1/system/info").status_code == 403  # a teller

    # A parameter change: one system administrator submits, a second one approves (双人复核).
    maker, checker = requests.Session(), requests.Session()
    api_login(maker, server.base, "sysadmin")
    info = maker.get(server.base + "/api/v1/system/info").json()
    assert info["database"]["server"] == database.adapter.server.label
    submitted = maker.post(server.base + "/api/v1/parameters/job.history_retention_days/values",
                           json={"value": "500", "effective_from": "2099-01-01", "source": "e2e"})
    assert submitted.status_code == 202 and submitted.json()["status"] == "pending", submitted.text
    api_login(checker, server.base, "sysadmin02")
    approved = checker.post(server.base + f"/api/v1/approvals/{submitted.json()['approval']['id']}/approve",
                            json={})
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
    history = http.get(server.base + "/api/v1/parameters/job.history_retention_days").json()["history"]
    assert history[-1] == {"value": "500", "effective_from": "2099-01-01", "effective_to": None,
                           "source": "e2e"}
    duplicate = maker.post(server.base + "/api/v1/parameters/job.history_retention_days/values",
                           json={"value": "600", "effective_from": "2099-01-01"})
    assert duplicate.status_code == 422 and "effective_from" in duplicate.json()["details"]
    assert http.post(server.base + "/api/v1/parameters/job.history_retention_days/values",
                     json={"value": "600", "effective_from": "2099-02-01"}).status_code == 403  # a teller

    # Metrics from both worker processes are added up (prometheus multiprocess mode).
    for _ in range(20):
        assert requests.get(server.base + "/api/v1/code-tables").status_code == 200
    metrics = requests.get(server.base + "/metrics").text
    count = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                if line.startswith("hpf_http_requests_total{")
                and 'endpoint="/api/v1/code-tables"' in line)
    assert count == 20

    rid = http.get(server.base + "/healthz", headers={"X-Request-ID": "trace-42"})
    assert rid.headers["X-Request-ID"] == "trace-42"
    assert server.stop() == 0  # SIGTERM: graceful exit
    access = [json.loads(line) for line in server.log().splitlines()
              if line.startswith("{") and '"logger": "access"' in line]
    assert any(e["request_id"] == "trace-42" and e["path"] == "/healthz" for e in access)

    with database.engine.begin() as conn:  # leave the shared database as found
        conn.exec_driver_sql("DELETE FROM param_value WHERE source = 'e2e'")
        conn.exec_driver_sql("DELETE FROM approval_request")
    for admin in ("sysadmin", "sysadmin02"):  # their enrolments (a deleted settings row would be tampering)
        users.operator_recover(UnitOfWork(database), Who("test"), datetime.now(UTC), admin, reset_mfa=True)


def test_graceful_reload_keeps_serving(tmp_path, start_server):
    from click.testing import CliRunner

    from hpf.cli import cli

    env = {"HPF_DATABASE_URL": f"sqlite:///{tmp_path / 'reload.sqlite3'}",
           "HPF_INSTANCE_PATH": str(tmp_path / "instance")}
    assert CliRunner().invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    server = start_server("serve", "--workers", "2", env=env)
    os.kill(server.proc.pid, signal.SIGHUP)  # gunicorn: new workers, old ones finish
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and "Booting worker" not in server.log().split(
            "Handling signal: hup")[-1]:
        time.sleep(0.2)
    assert requests.get(server.base + "/readyz").status_code == 200
    assert server.stop() == 0


def test_the_product_runs_without_any_native_crypto(tmp_path, start_server):
    """HPF_CRYPTO_PROVIDER=portable: no cryptography wheel, no libcrypto via ctypes (what a
    bare Loongson install has). It serves, signs staff in and seals what it writes."""
    from click.testing import CliRunner

    from hpf.cli import cli

    env = {"HPF_DATABASE_URL": "",  # the demo's SQLite file in the instance folder
           "HPF_INSTANCE_PATH": str(tmp_path / "instance"), "HPF_CRYPTO_PROVIDER": "portable"}
    runner = CliRunner()
    assert runner.invoke(cli, ["demo", "--no-serve"], env=env).exit_code == 0
    report = runner.invoke(cli, ["crypto", "report", "--json"], env=env)
    assert json.loads(report.output)["provider"]["engines"]["sm4"]["engine"] == "gmssl-sm4"
    server = start_server("serve", "--workers", "1", env=env)
    http = requests.Session()
    api_login(http, server.base, "sysadmin")  # SM3-based TOTP enrolment and code on this provider too
    added = http.post(server.base + "/api/v1/parameters/job.history_retention_days/values",
                      json={"value": "450", "effective_from": "2099-01-01", "source": "portable"})
    assert added.status_code == 202 and added.json()["status"] == "pending", added.text
    assert server.stop() == 0
    assert runner.invoke(cli, ["crypto", "verify-integrity"], env=env).exit_code == 0
