"""Idempotency-Key on the JSON API: a retried POST is answered from the first response."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from hpf.repositories.uow import UnitOfWork
from hpf.services import idempotency
from tests.conftest import login
from tests.integration.test_access_api import client_as, ids
from tests.integration.test_units_api import count, new_unit

UNITS = "/api/v1/units"


def keyed(key: str) -> dict:
    return {"Idempotency-Key": key}


def records(app) -> list[tuple]:
    with app.extensions["hpf"].database.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT principal, idem_key, endpoint, status_code FROM idempotency_record ORDER BY principal"))]


def units(app) -> int:
    return count(app, "SELECT COUNT(*) FROM unit")


def test_a_retry_with_the_same_key_replays_the_first_response_and_opens_one_unit(app):
    teller = client_as(app, "teller01")
    first = teller.post(UNITS, json=new_unit(app, 1), headers=keyed("open-unit-1"))
    assert first.status_code == 201 and "Idempotency-Replayed" not in first.headers
    again = teller.post(UNITS, json=new_unit(app, 1), headers=keyed("open-unit-1"))
    assert again.status_code == 201 and again.headers["Idempotency-Replayed"] == "true"
    assert again.get_json() == first.get_json() and again.mimetype == "application/json"
    assert units(app) == 1 and count(app, "SELECT COUNT(*) FROM audit_event WHERE action = 'unit.open'") == 1
    assert records(app) == [(f"user:{ids(app)['teller01']}", "open-unit-1", "POST /api/v1/units", 201)]


def test_the_same_body_with_keys_in_another_order_is_the_same_request(app):
    teller = client_as(app, "teller01")
    payload = new_unit(app, 2)
    teller.post(UNITS, json=payload, headers=keyed("k"))
    reordered = json.dumps(dict(reversed(list(payload.items()))), ensure_ascii=False)
    again = teller.post(UNITS, data=reordered, content_type="application/json", headers=keyed("k"))
    assert again.status_code == 201 and again.headers["Idempotency-Replayed"] == "true"
    assert units(app) == 1


def test_the_same_key_on_another_request_is_refused(app):
    teller = client_as(app, "teller01")
    assert teller.post(UNITS, json=new_unit(app, 3), headers=keyed("k")).status_code == 201
    other = teller.post(UNITS, json=new_unit(app, 4), headers=keyed("k"))
    assert other.status_code == 422
    body = other.get_json()
    assert body["code"] == "idempotency_key_reused" and body["message"] == "该幂等键已用于另一请求"
    assert set(body) == {"code", "message", "details", "request_id"}
    unit_id = teller.post(UNITS, json=new_unit(app, 5)).get_json()["id"]
    patched = teller.patch(f"{UNITS}/{unit_id}", json={"contact_name": "李四"}, headers=keyed("k"))
    assert patched.status_code == 422 and units(app) == 2


@pytest.mark.parametrize("key", ["", "has space", "x" * 65, "caf\u00e9", "tab\there"])
def test_an_invalid_key_is_a_400_and_nothing_is_written(app, key):
    teller = client_as(app, "teller01")
    response = teller.post(UNITS, json=new_unit(app, 6), headers=keyed(key))
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "idempotency_key_invalid" and "Idempotency-Key" in body["message"]
    assert units(app) == 0 and records(app) == []


def test_the_longest_key_is_accepted(app):
    key = "!~" * 32  # 64 visible ASCII characters
    response = client_as(app, "teller01").post(UNITS, json=new_unit(app, 7), headers=keyed(key))
    assert response.status_code == 201 and records(app)[0][1] == key


def test_two_users_use_the_same_key_independently(app):
    mine = client_as(app, "teller01").post(UNITS, json=new_unit(app, 8), headers=keyed("shared"))
    east = client_as(app, "teller02").post(
        UNITS, json=new_unit(app, 9, org_id=ids(app)["org:002"]), headers=keyed("shared"))
    assert mine.status_code == east.status_code == 201, east.get_json()
    assert "Idempotency-Replayed" not in east.headers and mine.get_json()["id"] != east.get_json()["id"]
    assert units(app) == 2 and len(records(app)) == 2


def test_an_error_response_is_kept_and_replayed(app):
    teller = client_as(app, "teller01")
    bad = new_unit(app, 10, unit_ratio="0.50")  # outside the band: 422 from the service
    first = teller.post(UNITS, json=bad, headers=keyed("bad-ratio"))
    assert first.status_code == 422 and first.get_json()["code"] == "rule_broken"
    again = teller.post(UNITS, json=bad, headers=keyed("bad-ratio"))
    assert again.status_code == 422 and again.headers["Idempotency-Replayed"] == "true"
    assert again.get_json() == first.get_json()  # the first request id included
    invalid = teller.post(UNITS, json={"name": ""}, headers=keyed("schema"))  # 422 from the schema
    assert teller.post(UNITS, json={"name": ""}, headers=keyed("schema")).get_json() == invalid.get_json()
    assert units(app) == 0 and [r[3] for r in records(app)] == [422, 422]


def test_a_server_error_releases_the_key_so_that_a_retry_runs(app, monkeypatch):
    from hpf.services import units as unit_service

    teller = client_as(app, "teller01")
    real = unit_service.open_unit
    monkeypatch.setattr(unit_service, "open_unit", lambda *a, **k: 1 / 0)
    failed = teller.post(UNITS, json=new_unit(app, 11), headers=keyed("retry-me"))
    assert failed.status_code == 500 and records(app) == []
    monkeypatch.setattr(unit_service, "open_unit", real)
    retried = teller.post(UNITS, json=new_unit(app, 11), headers=keyed("retry-me"))
    assert retried.status_code == 201 and "Idempotency-Replayed" not in retried.headers
    assert units(app) == 1


def test_a_twin_still_running_gets_a_409(app):
    teller = client_as(app, "teller01")
    payload = new_unit(app, 12)
    body = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    req = idempotency.keyed_request(f"user:{ids(app)['teller01']}", "busy", "POST", UNITS, body)
    database = app.extensions["hpf"].database
    assert idempotency.begin(UnitOfWork(database), req, datetime.now(UTC)) is None  # the twin's claim
    response = teller.post(UNITS, json=payload, headers=keyed("busy"))
    assert response.status_code == 409 and response.get_json()["code"] == "idempotency_in_progress"
    assert units(app) == 0


def test_without_a_key_or_a_sign_in_nothing_is_kept(app, client):
    assert client.post(UNITS, json=new_unit(app, 13), headers=keyed("anon")).status_code == 401
    login(client, "teller01")  # the session endpoints keep nothing either (credentials)
    assert client.post("/api/v1/session", json={"username": "teller01", "password": "Demo@2026"},
                       headers=keyed("login")).status_code == 200
    assert client.post(UNITS, json=new_unit(app, 13)).status_code == 201
    assert client.get(UNITS, headers=keyed("get")).status_code == 200
    assert records(app) == []


def test_keys_expire_after_a_day(app):
    database = app.extensions["hpf"].database
    now = datetime.now(UTC)
    principal = f"user:{ids(app)['teller01']}"
    old = idempotency.keyed_request(principal, "old", "POST", UNITS, b"{}")
    fresh = idempotency.keyed_request(principal, "fresh", "POST", UNITS, b"{}")
    idempotency.begin(UnitOfWork(database), old, now - timedelta(hours=25))
    idempotency.begin(UnitOfWork(database), fresh, now - timedelta(hours=23))
    # An expired key that was not purged yet is free for a new request.
    reused = client_as(app, "teller01").post(UNITS, json=new_unit(app, 14), headers=keyed("old"))
    assert reused.status_code == 201
    idempotency.begin(UnitOfWork(database), idempotency.keyed_request(principal, "stale", "POST", UNITS, b""),
                      now - timedelta(hours=24, seconds=1))
    assert idempotency.purge_expired(UnitOfWork(database), now) == 1
    assert sorted(r[1] for r in records(app)) == ["fresh", "old"]


def test_the_openapi_document_shows_the_header_on_posts_and_patches(client):
    spec = client.get("/api/openapi.json").get_json()
    param = spec["components"]["parameters"]["IdempotencyKey"]
    assert param["in"] == "header" and param["name"] == "Idempotency-Key" and not param["required"]
    ref = {"$ref": "#/components/parameters/IdempotencyKey"}
    paths = spec["paths"]
    assert ref in paths["/api/v1/units"]["post"]["parameters"]
    assert ref in paths["/api/v1/units/{unit_id}"]["patch"]["parameters"]
    assert ref not in paths["/api/v1/units"]["get"].get("parameters", [])
    assert ref not in paths["/api/v1/session"]["post"].get("parameters", [])
    assert ref not in paths["/api/v1/tokens"]["post"].get("parameters", [])
    writes = [op for path, ops in paths.items() if path.startswith("/api/v1/")
              and not path.startswith(("/api/v1/session", "/api/v1/tokens"))
              for method, op in ops.items() if method in ("post", "patch")]
    assert writes and all(ref in op.get("parameters", []) for op in writes)
