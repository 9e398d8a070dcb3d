"""Identity and access control over the JSON API: permissions per action, 三员分立, data
scope, maker-checker, the second factor, password expiry, API tokens, denied requests in
the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from hpf.domain import totp
from tests.conftest import login, otp_code


def ids(app) -> dict[str, int]:
    with app.extensions["hpf"].database.engine.connect() as conn:
        users = dict(conn.execute(sa.text("SELECT username, id FROM app_user")).all())
        roles = {f"role:{c}": i for c, i in conn.execute(sa.text("SELECT code, id FROM role")).all()}
        orgs = {f"org:{c}": i for c, i in conn.execute(sa.text("SELECT code, id FROM org_unit")).all()}
    return {**users, **roles, **orgs}


def client_as(app, username: str, password: str = "Demo@2026"):
    client = app.test_client()
    login(client, username, password)
    return client


def denied(app) -> list:
    with app.extensions["hpf"].database.engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "SELECT actor, result, target, summary FROM audit_event "
                    "WHERE action = 'access.denied' ORDER BY seq DESC"
                )
            )
        )


def test_a_call_outside_ones_permissions_is_403_and_audited(app):
    teller = client_as(app, "teller01")
    before = len(denied(app))
    response = teller.post(
        "/api/v1/users", json={"username": "x123", "display_name": "x", "org_id": 1, "password": "Abcdef12!"}
    )
    assert response.status_code == 403 and response.get_json()["code"] == "forbidden"
    assert response.get_json()["details"] == {"permission": "user:manage"}
    records = denied(app)
    assert len(records) == before + 1
    assert records[0].actor == "teller01" and records[0].result == "denied"
    assert records[0].target == "POST /api/v1/users" and "user:manage" in records[0].summary
    assert teller.get("/api/v1/roles").status_code == 403


def test_sessions_show_roles_permissions_and_scope(app):
    me = client_as(app, "teller01").get("/api/v1/session").get_json()
    assert [r["code"] for r in me["roles"]] == ["teller"]
    assert "remittance:post" in me["permissions"] and "user:manage" not in me["permissions"]
    assert me["scope_org_name"] == "市直管理部"  # a counter's staff work for their branch


def test_administrators_must_pass_a_second_factor(app):
    client = app.test_client()
    step = client.post("/api/v1/session", json={"username": "secadmin", "password": "Demo@2026"})
    assert step.status_code == 202 and step.get_json()["second_factor"] == "totp"
    secret = step.get_json()["enrolment"]["secret"]
    assert client.get("/api/v1/session").status_code == 401  # not signed in yet
    wrong = client.post("/api/v1/session/otp", json={"code": "000000"})
    assert wrong.status_code == 401 and wrong.get_json()["code"] in ("bad_second_factor",)
    good = totp.code_at(secret, datetime.now(UTC).timestamp())
    assert client.post("/api/v1/session/otp", json={"code": good}).status_code == 200
    assert client.get("/api/v1/session").get_json()["mfa_enabled"] is True
    # The same code again (a replay) is refused on a new sign-in; enrolled: no secret shown.
    again = app.test_client()
    step = again.post("/api/v1/session", json={"username": "secadmin", "password": "Demo@2026"})
    assert step.status_code == 202 and step.get_json()["enrolment"] is None
    assert again.post("/api/v1/session/otp", json={"code": good}).status_code == 401
    bad_format = again.post("/api/v1/session/otp", json={"code": "12ab"})
    assert bad_format.status_code == 422


def test_wrong_one_time_codes_lock_the_account_like_wrong_passwords(app):
    client = app.test_client()
    client.post("/api/v1/session", json={"username": "auditadmin", "password": "Demo@2026"})
    codes = [client.post("/api/v1/session/otp", json={"code": "000000"}).get_json()["code"] for _ in range(5)]
    assert codes[:4] == ["bad_second_factor"] * 4 and codes[4] == "account_locked"
    step = app.test_client().post("/api/v1/session", json={"username": "auditadmin", "password": "Demo@2026"})
    assert step.status_code == 401 and step.get_json()["code"] == "account_locked"


def test_the_three_administrators_cannot_be_combined_or_self_granted(app):
    n = ids(app)
    sec = client_as(app, "secadmin")
    for combo in (["sysadmin", "auditadmin"], ["secadmin", "auditadmin"], ["sysadmin", "teller"]):
        response = sec.put(
            f"/api/v1/users/{n['teller02']}/roles", json={"role_ids": [n[f"role:{c}"] for c in combo]}
        )
        assert response.status_code == 403, combo
        assert response.get_json()["code"] in ("admin_roles_exclusive", "admin_business_exclusive")
    assert sec.get(f"/api/v1/users/{n['teller02']}").get_json()["roles"] == ["teller"]  # unchanged
    own = sec.put(f"/api/v1/users/{n['secadmin']}/roles", json={"role_ids": [n["role:secadmin"]]})
    assert own.status_code == 403 and own.get_json()["code"] == "self_grant"
    # Built-in roles are fixed; nobody edits a role they hold.
    fixed = sec.put(f"/api/v1/roles/{n['role:secadmin']}/permissions", json={"permissions": ["audit:view"]})
    assert fixed.status_code == 403 and fixed.get_json()["code"] == "builtin_role"
    mixed = sec.post(
        "/api/v1/roles",
        json={
            "code": "mix",
            "name": "混合",
            "kind": "secadmin",
            "permissions": ["grant:manage", "audit:view"],
        },
    )
    assert mixed.status_code == 422 and "permissions" in mixed.get_json()["details"]


def test_each_administrator_does_only_their_own_part(app):
    n = ids(app)
    sysadmin, sec, aud = client_as(app, "sysadmin"), client_as(app, "secadmin"), client_as(app, "auditadmin")
    assert sysadmin.put(f"/api/v1/users/{n['teller01']}/roles", json={"role_ids": []}).status_code == 403
    assert (
        sec.post(
            "/api/v1/users",
            json={"username": "abc", "display_name": "a", "org_id": 1, "password": "Abcdef12!"},
        ).status_code
        == 403
    )
    assert aud.get("/api/v1/users").status_code == 403
    assert sysadmin.get("/api/v1/roles").status_code == 403
    me = aud.get("/api/v1/session").get_json()
    assert set(me["permissions"]) == {"audit:view", "audit:export", "audit:verify"}


def test_a_new_user_is_created_granted_and_must_change_the_initial_password(app):
    n = ids(app)
    sysadmin = client_as(app, "sysadmin")
    created = sysadmin.post(
        "/api/v1/users",
        json={
            "username": "zhangsan",
            "display_name": "张三",
            "org_id": n["org:002001"],
            "password": "Init@2026x",
        },
    )
    assert created.status_code == 201, created.get_json()
    user = created.get_json()
    assert user["roles"] == [] and user["must_change_password"] is True
    sec = client_as(app, "secadmin")
    granted = sec.put(f"/api/v1/users/{user['id']}/roles", json={"role_ids": [n["role:teller"]]})
    assert granted.status_code == 200 and [r["code"] for r in granted.get_json()] == ["teller"]

    new = client_as(app, "zhangsan", "Init@2026x")
    blocked = new.get("/api/v1/users")
    assert blocked.status_code == 403 and blocked.get_json()["code"] == "password_change_required"
    assert new.get("/api/v1/session").get_json()["must_change_password"] is True
    changed = new.put(
        "/api/v1/session/password", json={"old_password": "Init@2026x", "new_password": "Zhang@2026y"}
    )
    assert changed.status_code == 204
    me = new.get("/api/v1/session").get_json()
    assert me["must_change_password"] is False and "remittance:post" in me["permissions"]


def test_user_form_errors_name_the_field_and_change_nothing(app):
    sysadmin = client_as(app, "sysadmin")
    bad = sysadmin.post(
        "/api/v1/users", json={"username": "1x", "display_name": "", "org_id": 1, "password": "short"}
    )
    assert bad.status_code == 422
    assert {"username", "display_name"} <= set(bad.get_json()["details"]) or "display_name" in bad.get_json()[
        "details"
    ]
    weak = sysadmin.post(
        "/api/v1/users",
        json={"username": "lisi", "display_name": "李四", "org_id": 1, "password": "password"},
    )
    assert weak.status_code == 422 and "password" in weak.get_json()["details"]
    dup = sysadmin.post(
        "/api/v1/users",
        json={"username": "teller01", "display_name": "重复", "org_id": 1, "password": "Abcdef12!"},
    )
    assert dup.status_code == 409 and dup.get_json()["code"] == "user_exists"
    assert sysadmin.get("/api/v1/users", query_string={"q": "lisi"}).get_json()["total"] == 0


def test_data_scope_limits_a_branch_administrator_until_widened(app):
    n = ids(app)
    sysadmin, sec = client_as(app, "sysadmin"), client_as(app, "secadmin")
    made = sysadmin.post(
        "/api/v1/users",
        json={
            "username": "east_admin",
            "display_name": "东城系统管理员",
            "org_id": n["org:002"],
            "password": "East@2026x",
        },
    )
    east_id = made.get_json()["id"]
    assert (
        sec.put(f"/api/v1/users/{east_id}/roles", json={"role_ids": [n["role:sysadmin"]]}).status_code == 200
    )
    east = client_as(app, "east_admin", "East@2026x")
    east.put("/api/v1/session/password", json={"old_password": "East@2026x", "new_password": "East@2026y"})
    listed = {u["username"] for u in east.get("/api/v1/users").get_json()["items"]}
    assert listed == {"east_admin", "teller02"}  # the East branch and its counter only
    out = east.get(f"/api/v1/users/{n['teller01']}")
    assert out.status_code == 403 and out.get_json()["code"] == "out_of_scope"
    other = east.post(
        "/api/v1/users",
        json={
            "username": "west01",
            "display_name": "西城",
            "password": "West@2026x",
            "org_id": n["org:003001"],
        },
    )
    assert other.status_code == 403
    assert [o["code"] for o in east.get("/api/v1/organisations/tree").get_json()] == ["002", "002001"]

    widened = sec.put(f"/api/v1/users/{east_id}/scope", json={"org_id": n["org:000000"]})
    assert widened.status_code == 204
    assert east.get(f"/api/v1/users/{n['teller01']}").status_code == 200


def test_a_branch_security_admin_cannot_hand_out_a_wider_scope(app):
    n = ids(app)
    sysadmin, sec = client_as(app, "sysadmin"), client_as(app, "secadmin")
    made = sysadmin.post(
        "/api/v1/users",
        json={
            "username": "east_sec",
            "display_name": "东城安全管理员",
            "org_id": n["org:002"],
            "password": "East@2026x",
        },
    ).get_json()
    sec.put(f"/api/v1/users/{made['id']}/roles", json={"role_ids": [n["role:secadmin"]]})
    east = client_as(app, "east_sec", "East@2026x")
    east.put("/api/v1/session/password", json={"old_password": "East@2026x", "new_password": "East@2026y"})
    wide = east.put(f"/api/v1/users/{n['teller02']}/scope", json={"org_id": n["org:000000"]})
    assert wide.status_code == 403 and wide.get_json()["code"] == "scope_too_wide"
    outside = east.put(f"/api/v1/users/{n['teller01']}/roles", json={"role_ids": [n["role:teller"]]})
    assert outside.status_code == 403 and outside.get_json()["code"] == "out_of_scope"


def test_parameter_changes_need_a_second_administrator(app):
    maker, checker = client_as(app, "sysadmin"), client_as(app, "sysadmin02")
    submitted = maker.post(
        "/api/v1/parameters/interest.rate.current_year/values",
        json={"value": "0.016", "effective_from": "2099-07-01", "source": "国函〔2099〕1号"},
    )
    assert submitted.status_code == 202
    request = submitted.get_json()["approval"]
    assert request["status"] == "pending" and request["payload"]["value"] == "0.016"
    rate = maker.get("/api/v1/parameters/interest.rate.current_year").get_json()
    assert all(p["effective_from"] != "2099-07-01" for p in rate["history"])  # not in force yet

    own = maker.post(f"/api/v1/approvals/{request['id']}/approve", json={})
    assert own.status_code == 403 and own.get_json()["code"] == "maker_is_checker"
    teller = client_as(app, "teller01")
    assert teller.post(f"/api/v1/approvals/{request['id']}/approve", json={}).status_code == 403
    assert [r["id"] for r in checker.get("/api/v1/approvals").get_json()] == [request["id"]]
    assert maker.get("/api/v1/approvals").get_json() == []  # not in the maker's own inbox
    no_note = checker.post(f"/api/v1/approvals/{request['id']}/reject", json={})
    assert no_note.status_code == 422 and "note" in no_note.get_json()["details"]

    done = checker.post(f"/api/v1/approvals/{request['id']}/approve", json={"note": "同意"})
    assert done.status_code == 200 and done.get_json()["status"] == "approved"
    rate = maker.get("/api/v1/parameters/interest.rate.current_year").get_json()
    assert rate["history"][-1]["effective_from"] == "2099-07-01" and rate["history"][-1]["value"] == "0.016"
    again = checker.post(f"/api/v1/approvals/{request['id']}/approve", json={})
    assert again.status_code == 409 and again.get_json()["code"] == "approval_decided"
    bad = maker.post(
        "/api/v1/parameters/interest.rate.current_year/values",
        json={"value": "0.9", "effective_from": "2099-08-01"},
    )
    assert bad.status_code == 422  # checked before it waits for anyone


def test_a_payload_changed_in_sql_while_waiting_is_refused(app):
    maker, checker = client_as(app, "sysadmin"), client_as(app, "sysadmin02")
    request = maker.post(
        "/api/v1/parameters/interest.rate.current_year/values",
        json={"value": "0.016", "effective_from": "2099-07-01"},
    ).get_json()["approval"]
    with app.extensions["hpf"].database.engine.begin() as conn:
        conn.execute(sa.text("UPDATE approval_request SET payload = REPLACE(payload, '0.016', '0.16')"))
    refused = checker.post(f"/api/v1/approvals/{request['id']}/approve", json={})
    assert refused.status_code == 409 and refused.get_json()["code"] == "crypto_integrity_violation"


def test_maker_checker_rules_are_set_by_the_security_administrator(app):
    sec, maker = client_as(app, "secadmin"), client_as(app, "sysadmin")
    assert maker.put("/api/v1/approval-policies/param.change", json={"mode": "never"}).status_code == 403
    no_threshold = sec.put("/api/v1/approval-policies/withdrawal.large", json={"mode": "above"})
    assert no_threshold.status_code == 422
    changed = sec.put("/api/v1/approval-policies/param.change", json={"mode": "never"})
    assert changed.status_code == 200
    applied = maker.post(
        "/api/v1/parameters/interest.rate.current_year/values",
        json={"value": "0.016", "effective_from": "2099-07-01"},
    )
    assert applied.status_code == 202 and applied.get_json()["status"] == "applied"


def test_a_grant_inserted_in_sql_is_ignored(app):
    n = ids(app)
    with app.extensions["hpf"].database.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO user_role (user_id, role_id, granted_by, granted_at) VALUES (:u, :r, 'sql', :t)"
            ),
            {"u": n["teller01"], "r": n["role:auditor"], "t": datetime.now(UTC)},
        )
        conn.execute(
            sa.text("INSERT INTO role_permission (role_id, permission) VALUES (:r, 'user:manage')"),
            {"r": n["role:teller"]},
        )
    me = client_as(app, "teller01").get("/api/v1/session").get_json()
    assert [r["code"] for r in me["roles"]] == ["teller"]
    assert "inspection:view" not in me["permissions"] and "user:manage" not in me["permissions"]


def test_an_expired_password_must_be_changed_first(app):
    n = ids(app)
    with app.extensions["hpf"].database.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE app_user SET password_changed_at = :t, created_at = :t WHERE id = :u"),
            {"t": datetime.now(UTC) - timedelta(days=91), "u": n["teller02"]},
        )
    client = client_as(app, "teller02")  # password_changed_at is not a sealed field
    assert client.get("/api/v1/session").get_json()["password_expired"] is True
    assert client.get("/api/v1/users").get_json()["code"] == "password_change_required"


def test_api_tokens_are_scoped_hashed_expiring_and_revocable(app):
    n = ids(app)
    sec = client_as(app, "secadmin")
    role = sec.post(
        "/api/v1/roles",
        json={
            "code": "bank_batch",
            "name": "银行批量接口",
            "kind": "business",
            "permissions": ["token:self", "unit:view", "statement:view"],
        },
    )
    assert role.status_code == 201
    sec.put(
        f"/api/v1/users/{n['accountant01']}/roles",
        json={"role_ids": [n["role:accountant"], role.get_json()["id"]]},
    )
    owner = client_as(app, "accountant01")
    too_wide = owner.post("/api/v1/tokens", json={"name": "批量", "scopes": ["user:manage"], "days": 30})
    assert too_wide.status_code == 422 and "scopes" in too_wide.get_json()["details"]
    too_long = owner.post("/api/v1/tokens", json={"name": "批量", "scopes": ["unit:view"], "days": 365})
    assert too_long.status_code == 422 and "days" in too_long.get_json()["details"]
    issued = owner.post("/api/v1/tokens", json={"name": "批量对账", "scopes": ["unit:view"], "days": 30})
    assert issued.status_code == 201
    token = issued.get_json()["token"]
    assert token.startswith("hpf_")
    with app.extensions["hpf"].database.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT secret_hash FROM api_token")).scalar_one()
    assert token.split("_", 2)[2] not in stored and len(stored) == 64

    program = app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    me = program.get("/api/v1/session", headers=bearer).get_json()
    assert me["username"] == "accountant01" and me["permissions"] == ["unit:view"]
    assert (
        program.get("/api/v1/users", headers={"Authorization": "Bearer hpf_x_y"}).get_json()["code"]
        == "invalid_token"
    )
    assert (
        program.post(
            "/api/v1/tokens", headers=bearer, json={"name": "x", "scopes": ["unit:view"]}
        ).status_code
        == 403
    )

    token_id = issued.get_json()["details"]["id"]
    assert [t["id"] for t in sec.get("/api/v1/tokens", query_string={"all": "true"}).get_json()] == [token_id]
    assert owner.delete(f"/api/v1/tokens/{token_id}").status_code == 204
    assert program.get("/api/v1/session", headers=bearer).status_code == 401


def test_administrators_get_no_tokens(app):
    sysadmin = client_as(app, "sysadmin")
    assert sysadmin.post("/api/v1/tokens", json={"name": "x", "scopes": ["user:view"]}).status_code == 403


def test_security_admin_resets_a_lost_second_factor(app):
    n = ids(app)
    client_as(app, "auditadmin")  # enrols
    sec = client_as(app, "secadmin")
    assert sec.delete(f"/api/v1/users/{n['auditadmin']}/mfa").status_code == 204
    step = app.test_client().post("/api/v1/session", json={"username": "auditadmin", "password": "Demo@2026"})
    assert step.status_code == 202 and step.get_json()["enrolment"] is not None
    assert sec.delete(f"/api/v1/users/{n['secadmin']}/mfa").status_code == 403
    app.extensions["test_otp"]["auditadmin"] = {
        "secret": step.get_json()["enrolment"]["secret"],
        "step": None,
    }
    assert otp_code(app, "auditadmin")


def test_code_tables_take_local_items_and_keep_standard_names(app):
    sysadmin, teller = client_as(app, "sysadmin"), client_as(app, "teller01")
    tables = sysadmin.get("/api/v1/code-tables").get_json()
    table = tables[0]["code"]
    items = sysadmin.get(f"/api/v1/code-tables/{table}").get_json()["items"]
    assert all(i["local"] is False for i in items)
    added = sysadmin.post(f"/api/v1/code-tables/{table}/items", json={"code": "L1", "name": "本中心扩展"})
    assert (
        added.status_code == 201
        and {"code": "L1", "name": "本中心扩展", "active": True, "local": True} in added.get_json()["items"]
    )
    assert (
        sysadmin.post(f"/api/v1/code-tables/{table}/items", json={"code": "L1", "name": "x"}).status_code
        == 409
    )
    standard = items[0]["code"]
    renamed = sysadmin.patch(f"/api/v1/code-tables/{table}/items/{standard}", json={"name": "改名"})
    assert renamed.status_code == 422 and "name" in renamed.get_json()["details"]
    off = sysadmin.patch(f"/api/v1/code-tables/{table}/items/{standard}", json={"active": False})
    assert off.status_code == 200
    assert [i["active"] for i in off.get_json()["items"] if i["code"] == standard] == [False]
    assert (
        teller.post(f"/api/v1/code-tables/{table}/items", json={"code": "L2", "name": "x"}).status_code == 403
    )


def test_a_disabled_account_says_so_only_to_someone_with_its_password(app):
    n = ids(app)
    sysadmin = client_as(app, "sysadmin")
    assert sysadmin.patch(f"/api/v1/users/{n['teller02']}", json={"active": False}).status_code == 200
    client = app.test_client()
    right = client.post("/api/v1/session", json={"username": "teller02", "password": "Demo@2026"})
    assert right.status_code == 401 and right.get_json()["code"] == "account_disabled"
    wrong = client.post("/api/v1/session", json={"username": "teller02", "password": "Wrong@2026"})
    assert wrong.get_json()["code"] == "bad_credentials"
    assert sysadmin.patch(f"/api/v1/users/{n['sysadmin']}", json={"active": False}).status_code == 403


def test_signing_out_ends_the_session_on_the_server(app):
    client = client_as(app, "teller01")
    cookie = client.get_cookie("hpf_session").value
    assert client.delete("/api/v1/session").status_code == 204
    replay = app.test_client()
    replay.set_cookie("hpf_session", cookie)  # a copy of the cookie taken before signing out
    ended = replay.get("/api/v1/session")
    assert ended.status_code == 401 and ended.get_json()["code"] == "session_expired"


def test_disabling_an_account_ends_its_sessions(app):
    n = ids(app)
    teller = client_as(app, "teller02")
    assert teller.get("/api/v1/session").status_code == 200
    client_as(app, "sysadmin").patch(f"/api/v1/users/{n['teller02']}", json={"active": False})
    assert teller.get("/api/v1/session").status_code == 401


def test_audit_records_name_the_actors_roles_and_organisation(app):
    client_as(app, "teller01").delete("/api/v1/session")
    with app.extensions["hpf"].database.engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT actor, role, org_code FROM audit_event WHERE action = 'auth.logout'")
        ).one()
    assert tuple(row) == ("teller01", "teller", "001001")


def test_only_the_audit_administrator_reads_exports_and_verifies_the_trail(app):
    client_as(app, "teller01").get("/api/v1/users")  # a denied call, to find
    aud, sysadmin = client_as(app, "auditadmin"), client_as(app, "sysadmin")
    for path in ("/api/v1/audit/events", "/api/v1/audit/events/export"):
        assert sysadmin.get(path).status_code == 403
    page = aud.get("/api/v1/audit/events", query_string={"result": "denied", "per_page": 5}).get_json()
    assert page["total"] >= 1 and page["items"][0]["actor"] == "sysadmin"  # newest first
    assert any(i["actor"] == "teller01" and i["role"] == "teller" for i in page["items"])
    bad = aud.get("/api/v1/audit/events", query_string={"result": "maybe"})
    assert bad.status_code == 422 and "result" in bad.get_json()["details"]
    csv_file = aud.get("/api/v1/audit/events/export", query_string={"action": "auth.", "format": "csv"})
    assert csv_file.status_code == 200 and csv_file.data.startswith(b"\xef\xbb\xbf")
    assert "attachment" in csv_file.headers["Content-Disposition"]
    xlsx = aud.get("/api/v1/audit/events/export", query_string={"format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    exports = aud.get("/api/v1/audit/events", query_string={"action": "audit.export"}).get_json()
    assert exports["total"] == 2 and exports["items"][1]["summary"] == "action=auth."
    report = aud.post("/api/v1/audit/verify").get_json()
    assert report["ok"] is True and report["records"] > 0


def test_deleting_an_administrators_settings_in_sql_does_not_reset_the_second_factor(app):
    n = ids(app)
    client_as(app, "secadmin")  # enrolled
    with app.extensions["hpf"].database.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM user_security WHERE user_id = :u"), {"u": n["secadmin"]})
    step = app.test_client().post("/api/v1/session", json={"username": "secadmin", "password": "Demo@2026"})
    assert step.status_code == 409 and step.get_json()["code"] == "crypto_integrity_violation"


def test_a_business_user_may_switch_a_second_factor_on_and_off(app):
    teller = client_as(app, "teller01")
    secret = teller.post("/api/v1/session/mfa").get_json()["secret"]
    wrong = teller.post("/api/v1/session/mfa/confirm", json={"code": "000000"})
    assert wrong.status_code == 422 and "code" in wrong.get_json()["details"]
    now = datetime.now(UTC).timestamp()
    assert (
        teller.post("/api/v1/session/mfa/confirm", json={"code": totp.code_at(secret, now)}).status_code
        == 204
    )
    step = app.test_client().post("/api/v1/session", json={"username": "teller01", "password": "Demo@2026"})
    assert step.status_code == 202 and step.get_json()["enrolment"] is None  # now asked at every sign-in
    off = teller.delete("/api/v1/session/mfa", json={"code": totp.code_at(secret, now + 30)})
    assert off.status_code == 204
    assert (
        app.test_client()
        .post("/api/v1/session", json={"username": "teller01", "password": "Demo@2026"})
        .status_code
        == 200
    )
    admin = client_as(app, "auditadmin")
    refused = admin.delete("/api/v1/session/mfa", json={"code": "123456"})
    assert refused.status_code == 403 and refused.get_json()["code"] == "mfa_required"


def test_the_inbox_count_matches_the_inbox(app):
    from hpf.repositories.uow import UnitOfWork
    from hpf.services import approvals, auth

    maker = client_as(app, "sysadmin")
    for day in ("2099-07-01", "2099-08-01"):
        maker.post(
            "/api/v1/parameters/interest.rate.current_year/values",
            json={"value": "0.016", "effective_from": day},
        )
    database = app.extensions["hpf"].database
    ids_ = ids(app)
    checker = auth.current_user(UnitOfWork(database), ids_["sysadmin02"])
    own = auth.current_user(UnitOfWork(database), ids_["sysadmin"])
    assert (
        approvals.inbox_count(UnitOfWork(database), checker)
        == len(approvals.inbox(UnitOfWork(database), checker))
        == 2
    )
    assert approvals.inbox_count(UnitOfWork(database), own) == 0
