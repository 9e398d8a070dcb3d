"""HTTP foundations: the error model, request ids, body checks, health, metrics, OpenAPI."""

import logging
import re

from openapi_spec_validator import validate

from hpf.repositories.database import open_app_database
from tests.conftest import login


def assert_error(response, status, code):
    assert response.status_code == status, response.data
    body = response.get_json()
    assert set(body) == {"code", "message", "details", "request_id"}
    assert body["code"] == code
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


def test_unknown_api_route_is_json_404(client):
    assert_error(client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_unknown_page_outside_api_is_a_chinese_html_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "text/html" in response.content_type
    assert "请求的资源不存在" in response.get_data(as_text=True)


def test_wrong_method_lists_the_allowed_ones(client):
    body = assert_error(client.delete("/api/v1/parameters"), 405, "method_not_allowed")
    assert "GET" in body["details"]["allowed"]


def test_wrong_content_type_is_415_and_runs_nothing(client):
    body = assert_error(client.post("/api/v1/session", data="username=x",
                                    content_type="application/x-www-form-urlencoded"),
                        415, "unsupported_media_type")
    assert body["message"] == "请求体须为 application/json"


def test_malformed_json_is_400(client):
    body = assert_error(client.post("/api/v1/session", data='{"username": "x",',
                                    content_type="application/json"), 400, "malformed_json")
    assert body["message"] == "请求体不是合法的 JSON"


def test_validation_errors_are_422_per_field_in_chinese(client):
    body = assert_error(client.post("/api/v1/session", json={"username": "", "extra": 1}),
                        422, "validation_error")
    assert body["details"] == {"username": ["长度应在 1 至 64 之间"], "password": ["必填项"],
                               "extra": ["不允许的字段"]}


def test_query_string_validation(client):
    body = assert_error(client.get("/api/v1/parameters?on=2026-13-01"), 422, "validation_error")
    assert body["details"] == {"on": ["应为日期，格式 YYYY-MM-DD"]}
    body = assert_error(client.get("/api/v1/jobs/runs?limit=0"), 422, "validation_error")
    assert "limit" in body["details"]


def test_unexpected_errors_never_leak_a_trace(app, client, caplog):
    @app.get("/api/v1/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/boom")
    body = assert_error(response, 500, "internal_error")
    text = response.get_data(as_text=True)
    assert "secret internal detail" not in text and "Traceback" not in text
    assert any(getattr(r, "request_id", None) == body["request_id"] for r in caplog.records)


def test_request_id_is_echoed_or_generated(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers[
        "X-Request-ID"] == "abc-123"
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id <script>"}).headers[
        "X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)


def test_security_headers(client):
    headers = client.get("/api/v1/parameters").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "no-store"


def test_health_and_readiness(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ready",
                                "checks": {"database": "ok", "migrations": "ok"}}


def test_readiness_fails_when_schema_is_behind(app, client):
    from hpf.repositories import schema

    schema.downgrade(app.extensions["hpf"].database, "0004")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "0004" in response.get_json()["checks"]["migrations"]


def test_metrics_count_requests_per_endpoint(client):
    client.get("/api/v1/code-tables")
    client.get("/api/v1/code-tables")
    text = client.get("/metrics").get_data(as_text=True)
    line = next(m for m in text.splitlines() if m.startswith("hpf_http_requests_total{")
                and 'endpoint="/api/v1/code-tables"' in m and 'status="200"' in m)
    assert float(line.rsplit(" ", 1)[1]) >= 2
    assert "hpf_http_request_duration_seconds_bucket" in text


def test_openapi_document_validates_and_uses_our_error_shape(client):
    spec = client.get("/api/openapi.json").get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/parameters/{code}/values" in spec["paths"]
    error = spec["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"code", "message", "details", "request_id"}


def test_interactive_docs_served_without_a_cdn(client):
    page = client.get("/api/docs").get_data(as_text=True)
    assert "/api/docs/static/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    asset = client.get("/api/docs/static/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000


def test_session_login_me_logout(client):
    assert_error(client.get("/api/v1/session"), 401, "unauthorized")
    user = login(client).get_json()
    assert user["username"] == "teller01" and user["org_name"] == "市直营业厅"
    assert client.get("/api/v1/session").get_json()["id"] == user["id"]
    assert client.delete("/api/v1/session").status_code == 204
    assert_error(client.get("/api/v1/session"), 401, "unauthorized")


def test_operations_endpoints_need_a_signed_in_user(client):
    for path in ("/api/v1/system/info", "/api/v1/jobs", "/api/v1/jobs/runs"):
        assert_error(client.get(path), 401, "unauthorized")
    login(client)  # a teller: signed in, but these are the system administrator's
    for path in ("/api/v1/system/info", "/api/v1/jobs", "/api/v1/jobs/runs"):
        assert_error(client.get(path), 403, "forbidden")
    client.delete("/api/v1/session")
    login(client, "sysadmin")
    info = client.get("/api/v1/system/info").get_json()
    assert info["schema"]["at_head"] and info["database"]["adapter"] == "sqlite"
    assert info["scheduler"] == {"leader": None, "lease_expires_at": None,
                                 "last_heartbeat_at": None}
    assert [j["name"] for j in client.get("/api/v1/jobs").get_json()] == [
        "audit.archive", "audit.checkpoint", "interest.annual_settlement", "system.heartbeat",
        "system.purge_idempotency_keys", "system.purge_job_history"]


def test_the_business_date_comes_from_the_injected_clock(settings):
    """Handlers take 'today' from the clock, so a re-run for a past date sees that date."""
    from datetime import UTC, datetime

    from hpf.app import create_app
    from hpf.repositories.uow import UnitOfWork
    from hpf.services.clock import FixedClock
    from hpf.services.crypto import upgrade_database
    from hpf.services.demo import load_demo_centre

    # 2016-01-09 16:30 UTC is 2016-01-10 00:30 in Shanghai
    app = create_app(settings, clock=FixedClock(datetime(2016, 1, 9, 16, 30, tzinfo=UTC)))
    upgrade_database(app.extensions["hpf"].database)
    load_demo_centre(UnitOfWork(app.extensions["hpf"].database))
    client = app.test_client()
    rate = client.get("/api/v1/parameters/interest.rate.current_year").get_json()
    assert (rate["on"], rate["value"]) == ("2016-01-10", "0.0035")
    login(client, "sysadmin")
    added = client.post("/api/v1/parameters/interest.rate.current_year/values",
                        json={"value": "0.004", "effective_from": "2016-01-10"})
    assert added.status_code == 202 and added.get_json()["status"] == "pending"
    checker = app.test_client()
    login(checker, "sysadmin02")
    approved = checker.post(f"/api/v1/approvals/{added.get_json()['approval']['id']}/approve", json={})
    assert approved.status_code == 200, approved.get_json()
    rate = client.get("/api/v1/parameters/interest.rate.current_year").get_json()
    assert (rate["value"], rate["effective_from"]) == ("0.004", "2016-01-10")
    app.extensions["hpf"].database.dispose()


def test_openapi_documents_the_session_requirement(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["session"]["in"] == "cookie"
    operation = spec["paths"]["/api/v1/parameters/{code}/values"]["post"]
    assert operation["security"] == [{"session": []}, {"token": []}] and "401" in operation["responses"]
    assert "403" in operation["responses"]
    assert spec["components"]["securitySchemes"]["token"]["scheme"] == "bearer"


def test_a_database_outage_is_503_and_reveals_no_server_details(app, client, tmp_path):
    login(client)
    database = app.extensions["hpf"].database
    bad = open_app_database(app.extensions["hpf"].settings,
                            "postgresql://secretuser:pw@127.0.0.1:1/hpf")
    app.extensions["hpf"].database = bad
    try:
        for method, path in (("get", "/api/v1/organisations"), ("get", "/readyz"),
                             ("get", "/api/v1/system/info")):
            response = getattr(client, method)(path)
            assert response.status_code == 503, (path, response.data)
            text = response.get_data(as_text=True)
            assert "secretuser" not in text and "127.0.0.1" not in text
        body = client.get("/api/v1/organisations").get_json()
        assert body["code"] == "database_unavailable"
    finally:
        app.extensions["hpf"].database = database


def test_logout_is_an_empty_204(client):
    login(client)
    response = client.delete("/api/v1/session")
    assert response.status_code == 204 and response.data == b""


def test_wrong_password_and_unknown_user_look_the_same(client):
    a = assert_error(client.post("/api/v1/session", json={"username": "teller01",
                                                          "password": "nope"}),
                     401, "bad_credentials")
    b = assert_error(client.post("/api/v1/session", json={"username": "ghost",
                                                          "password": "nope"}),
                     401, "bad_credentials")
    assert a["message"] == b["message"] == "用户名或密码错误"


def test_changing_ones_password_over_the_api(client):
    login(client)
    wrong = client.put("/api/v1/session/password", json={"old_password": "nope", "new_password": "New@2026x"})
    assert wrong.status_code == 422 and wrong.get_json()["details"] == {"old_password": ["当前密码不正确"]}
    weak = client.put("/api/v1/session/password", json={"old_password": "Demo@2026", "new_password": "abc"})
    assert weak.status_code == 422 and "new_password" in weak.get_json()["details"]
    done = client.put("/api/v1/session/password",
                      json={"old_password": "Demo@2026", "new_password": "New@2026x"})
    assert done.status_code == 204
    client.delete("/api/v1/session")
    login(client, password="New@2026x")
    anonymous = client.application.test_client().put(
        "/api/v1/session/password", json={"old_password": "a", "new_password": "b"})
    assert anonymous.status_code == 401


def test_sessions_end_after_thirty_idle_minutes_and_eight_hours(settings):
    from datetime import UTC, datetime, timedelta

    from hpf.app import create_app
    from hpf.repositories.uow import UnitOfWork
    from hpf.services.clock import FixedClock
    from hpf.services.crypto import upgrade_database
    from hpf.services.demo import load_demo_centre

    clock = FixedClock(datetime(2026, 11, 23, 0, 30, tzinfo=UTC))
    app = create_app(settings, clock=clock)
    upgrade_database(app.extensions["hpf"].database)
    load_demo_centre(UnitOfWork(app.extensions["hpf"].database))
    client = app.test_client()
    login(client)
    clock.at += timedelta(minutes=29)
    assert client.get("/api/v1/session").status_code == 200  # activity keeps it alive
    clock.at += timedelta(minutes=31)
    idle = client.get("/api/v1/session")
    assert idle.status_code == 401 and idle.get_json()["code"] == "session_expired"
    assert client.get("/api/v1/session").get_json()["code"] == "unauthorized"  # it was cleared
    page = client.get("/")
    assert page.status_code == 302 and "/login?next=/" in page.headers["Location"]

    login(client)
    for _ in range(16):  # busy all day, a request every 29 minutes: 7 h 44 min
        clock.at += timedelta(minutes=29)
        assert client.get("/api/v1/session").status_code == 200
    clock.at += timedelta(minutes=29)  # 8 h 13 min after signing in
    assert client.get("/api/v1/session").get_json()["code"] == "session_expired"
    app.extensions["hpf"].database.dispose()
