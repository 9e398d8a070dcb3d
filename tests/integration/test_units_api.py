"""单位 over the JSON API: 开户 checks, data scope, state rules, 缓缴 through maker-checker, 销户."""

from __future__ import annotations

import sqlalchemy as sa

from hpf.domain.identity_codes import credit_check_char
from hpf.repositories.uow import UnitOfWork
from tests.integration.test_access_api import client_as, ids


def credit_code(serial: int) -> str:
    """A valid 统一社会信用代码 (GB 32100) with the given serial."""
    first17 = f"91350100MA{serial:07d}"
    return first17 + credit_check_char(first17)


def new_unit(app, serial: int, **overrides) -> dict:
    return {"credit_code": credit_code(serial), "name": f"示范科技有限公司{serial}",
            "org_id": ids(app)["org:001"],
            "unit_ratio": "0.12", "person_ratio": "0.10", "deposit_day": 10, "bank_name": "工商银行示范支行",
            "bank_account": "6222021234567891234", "contact_name": "张三", "contact_phone": "13812345678",
            **overrides}


def open_unit(client, app, serial: int, **overrides) -> dict:
    response = client.post("/api/v1/units", json=new_unit(app, serial, **overrides))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def count(app, sql: str) -> int:
    with app.extensions["hpf"].database.engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar_one()


def make_normal(app, unit_id: int) -> None:
    """What the first 汇缴 does (02 开户 → 01 正常), through the ORM so the row stays sealed."""
    uow = UnitOfWork(app.extensions["hpf"].database)
    with uow:
        uow.units.get(unit_id).status = "01"
        uow.commit()


def test_a_unit_is_opened_in_the_open_state_with_a_number_and_audited(app):
    teller = client_as(app, "teller01")
    unit = open_unit(teller, app, 1)
    assert unit["status"] == "02" and unit["unit_no"] and unit["org_name"] == "市直管理部"
    assert unit["bank_account"] == "6222 **** **** 1234" and unit["contact_phone"] == "138****5678"
    assert count(app, "SELECT COUNT(*) FROM audit_event WHERE action = 'unit.open'") == 1
    assert teller.get(f"/api/v1/units/{unit['id']}").get_json()["credit_code"] == credit_code(1)
    found = teller.get("/api/v1/units", query_string={"q": "科技"}).get_json()
    assert found["total"] == 1 and found["items"][0]["id"] == unit["id"]
    assert teller.get("/api/v1/units", query_string={"q": credit_code(1)}).get_json()["total"] == 1


def test_bad_credit_codes_and_ratios_are_refused_and_nothing_is_written(app):
    teller = client_as(app, "teller01")
    bad_check = credit_code(2)[:-1] + ("0" if credit_code(2)[-1] != "0" else "1")
    for overrides, field in (({"credit_code": bad_check}, "credit_code"),
                             ({"credit_code": "12345"}, "credit_code"),
                             ({"unit_ratio": "0.13"}, "unit_ratio"),
                             ({"person_ratio": "0.04"}, "person_ratio"),
                             ({"deposit_day": 29}, "deposit_day"),
                             ({"org_id": ids(app)["org:001001"]}, "org_id")):
        response = teller.post("/api/v1/units", json=new_unit(app, 2, **overrides))
        assert response.status_code == 422, (overrides, response.get_json())
        assert field in response.get_json()["details"]
    assert count(app, "SELECT COUNT(*) FROM unit") == 0


def test_a_credit_code_registers_one_unit_only(app):
    teller = client_as(app, "teller01")
    first = open_unit(teller, app, 3)
    again = teller.post("/api/v1/units", json=new_unit(app, 3, name="另一家"))
    assert again.status_code == 409 and "credit_code" in again.get_json()["details"]
    assert first["unit_no"] in again.get_json()["message"]


def test_units_are_seen_and_opened_only_within_the_data_scope(app):
    mine = open_unit(client_as(app, "teller01"), app, 4)
    east = client_as(app, "teller02")
    assert east.get(f"/api/v1/units/{mine['id']}").get_json()["code"] == "out_of_scope"
    assert east.get("/api/v1/units").get_json()["total"] == 0
    response = east.post("/api/v1/units", json=new_unit(app, 5))  # branch 001 is not theirs
    assert response.status_code == 403 and response.get_json()["code"] == "out_of_scope"
    assert east.patch(f"/api/v1/units/{mine['id']}", json={"name": "x"}).status_code == 403
    assert client_as(app, "teller01").get("/api/v1/units/99999").status_code == 404


def test_changes_keep_ratios_within_the_band_and_are_audited(app):
    teller = client_as(app, "teller01")
    unit = open_unit(teller, app, 6)
    changed = teller.patch(f"/api/v1/units/{unit['id']}", json={"unit_ratio": "0.08", "contact_name": "李四"})
    assert changed.status_code == 200 and changed.get_json()["unit_ratio"] == "0.0800"
    refused = teller.patch(f"/api/v1/units/{unit['id']}", json={"person_ratio": "0.20"})
    assert refused.status_code == 422 and "person_ratio" in refused.get_json()["details"]
    assert count(app, "SELECT COUNT(*) FROM audit_event WHERE action = 'unit.change'") == 1


def test_operations_the_state_does_not_allow_are_409(app):
    teller = client_as(app, "teller01")
    unit = open_unit(teller, app, 7)  # 02 开户
    for path in ("resume", "seal", "unseal"):
        response = teller.post(f"/api/v1/units/{unit['id']}/{path}")
        assert response.status_code == 409 and response.get_json()["code"] == "state_refused", path
    deferral = teller.post(f"/api/v1/units/{unit['id']}/deferral", json={"reason": "经营困难，职代会同意"})
    assert deferral.status_code == 409


def test_deferral_waits_for_an_approver_then_the_unit_resumes(app):
    teller = client_as(app, "teller01")
    unit = open_unit(teller, app, 8)
    make_normal(app, unit["id"])
    submitted = teller.post(f"/api/v1/units/{unit['id']}/deferral", json={"reason": "经营困难，职代会同意"})
    assert submitted.status_code == 202 and submitted.get_json()["status"] == "pending"
    assert teller.get(f"/api/v1/units/{unit['id']}").get_json()["status"] == "01"
    request_id = submitted.get_json()["approval"]["id"]
    approved = client_as(app, "approver01").post(f"/api/v1/approvals/{request_id}/approve", json={})
    assert approved.status_code == 200, approved.get_json()
    assert teller.get(f"/api/v1/units/{unit['id']}").get_json()["status"] == "03"
    assert count(app, "SELECT COUNT(*) FROM audit_event WHERE action = 'unit.defer'") == 1
    resumed = teller.post(f"/api/v1/units/{unit['id']}/resume")
    assert resumed.status_code == 200 and resumed.get_json()["status"] == "01"
    sealed = teller.post(f"/api/v1/units/{unit['id']}/seal").get_json()
    assert sealed["status"] == "05"
    assert teller.post(f"/api/v1/units/{unit['id']}/unseal").get_json()["status"] == "01"


def test_a_unit_with_staff_cannot_close(app):
    teller = client_as(app, "teller01")
    unit = open_unit(teller, app, 9)
    person = {"name": "王五", "id_type": "01", "id_number": "11010519491231002X", "unit_id": unit["id"],
              "deposit_base": "5000.00"}
    assert teller.post("/api/v1/accounts", json=person).status_code == 201
    approver = client_as(app, "approver01")
    refused = approver.post(f"/api/v1/units/{unit['id']}/close")
    assert refused.status_code == 409 and "staff_count" in refused.get_json()["details"]
    assert teller.post(f"/api/v1/units/{unit['id']}/close").status_code == 403  # unit:close
    empty = open_unit(teller, app, 10)
    closed = approver.post(f"/api/v1/units/{empty['id']}/close")
    assert closed.status_code == 200 and closed.get_json()["status"] == "04"
    assert closed.get_json()["closed_on"]
