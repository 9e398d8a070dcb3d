"""个人账户 over the JSON API: ID checks, one person one account, base bounds, data scope and
the person state machine (封存, 启封, 冻结/解冻)."""

from __future__ import annotations

from hpf.domain.identity_codes import resident_check_char
from tests.integration.test_access_api import client_as
from tests.integration.test_units_api import count, open_unit


def id_number(serial: int) -> str:
    """A valid 18-digit 居民身份证号码 born 1990-03-07."""
    first17 = f"35010219900307{serial:03d}"
    return first17 + resident_check_char(first17)


def new_person(unit_id: int, serial: int, **overrides) -> dict:
    return {"name": "林小明", "id_type": "01", "id_number": id_number(serial), "phone": "13912345678",
            "unit_id": unit_id, "deposit_base": "6000.00", **overrides}


def open_account(client, unit_id: int, serial: int) -> dict:
    response = client.post("/api/v1/accounts", json=new_person(unit_id, serial))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_an_account_is_opened_with_the_id_number_masked_and_found_by_it(app):
    teller = client_as(app, "teller01")
    unit = open_unit(teller, app, 21)
    account = open_account(teller, unit["id"], 1)
    assert account["status"] == "01" and account["balance"] == "0.00" and account["deposit_base"] == "6000.00"
    assert account["id_number"] == "350102********" + id_number(1)[-4:]
    assert account["unit_no"] == unit["unit_no"] and account["phone"] == "139****5678"
    found = teller.get("/api/v1/accounts", query_string={"id_number": id_number(1)}).get_json()
    assert [a["id"] for a in found] == [account["id"]]
    by_no = teller.get("/api/v1/accounts", query_string={"account_no": account["account_no"]}).get_json()
    assert [a["id"] for a in by_no] == [account["id"]]
    assert count(app, "SELECT COUNT(*) FROM audit_event WHERE action = 'account.open'") == 1


def test_bad_ids_and_bases_outside_floor_and_cap_are_refused_and_nothing_is_written(app):
    teller = client_as(app, "teller01")
    unit = open_unit(teller, app, 22)
    wrong_check = id_number(2)[:-1] + ("1" if id_number(2)[-1] != "1" else "2")
    for overrides, field in (({"id_number": wrong_check}, "id_number"),
                             ({"id_number": "35010219900307"}, "id_number"),
                             ({"id_type": "07"}, "id_type"),
                             ({"deposit_base": "2029.99"}, "deposit_base"),  # floor 2030.00
                             ({"deposit_base": "23400.01"}, "deposit_base"),  # cap 7800.00 × 3
                             ({"deposit_base": "5000.001"}, "deposit_base")):
        response = teller.post("/api/v1/accounts", json=new_person(unit["id"], 2, **overrides))
        assert response.status_code == 422, (overrides, response.get_json())
        assert field in response.get_json()["details"], response.get_json()
    assert count(app, "SELECT COUNT(*) FROM individual_account") == 0
    assert count(app, "SELECT COUNT(*) FROM person") == 0
    at_cap = new_person(unit["id"], 2, deposit_base="23400.00")
    assert teller.post("/api/v1/accounts", json=at_cap).status_code == 201


def test_one_person_has_one_account_and_a_sealed_one_is_unsealed_not_duplicated(app):
    teller = client_as(app, "teller01")
    first, second = open_unit(teller, app, 23), open_unit(teller, app, 24)
    account = open_account(teller, first["id"], 3)
    again = teller.post("/api/v1/accounts", json=new_person(second["id"], 3))
    assert again.status_code == 409 and again.get_json()["code"] == "account_exists"
    assert account["account_no"] in again.get_json()["message"]
    sealed = teller.post(f"/api/v1/accounts/{account['id']}/seal")
    assert sealed.status_code == 200 and sealed.get_json()["status"] == "02"
    assert sealed.get_json()["unit_id"] == first["id"]  # kept for history
    duplicate = teller.post("/api/v1/accounts", json=new_person(second["id"], 3))
    assert duplicate.status_code == 409 and duplicate.get_json()["code"] == "account_sealed"
    assert "启封" in duplicate.get_json()["message"]
    assert count(app, "SELECT COUNT(*) FROM individual_account") == 1
    low = teller.post(f"/api/v1/accounts/{account['id']}/unseal", json={"unit_id": second["id"],
                                                                         "deposit_base": "100.00"})
    assert low.status_code == 422 and "deposit_base" in low.get_json()["details"]
    moved = teller.post(f"/api/v1/accounts/{account['id']}/unseal", json={"unit_id": second["id"],
                                                                           "deposit_base": "8000.00"})
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["status"] == "01" and moved.get_json()["unit_id"] == second["id"]
    assert moved.get_json()["account_no"] == account["account_no"]


def test_operations_the_state_does_not_allow_are_409(app):
    teller = client_as(app, "teller01")
    unit = open_unit(teller, app, 25)
    account = open_account(teller, unit["id"], 4)
    assert teller.post(f"/api/v1/accounts/{account['id']}/seal").status_code == 200
    again = teller.post(f"/api/v1/accounts/{account['id']}/seal")
    assert again.status_code == 409 and again.get_json()["code"] == "state_refused"
    base = teller.put(f"/api/v1/accounts/{account['id']}/base", json={"deposit_base": "7000.00"})
    assert base.status_code == 409  # 基数调整 needs 正常


def test_freezing_remembers_the_state_and_needs_the_freeze_permission(app):
    teller = client_as(app, "teller01")
    unit = open_unit(teller, app, 26)
    account = open_account(teller, unit["id"], 5)
    teller.post(f"/api/v1/accounts/{account['id']}/seal")
    assert teller.post(f"/api/v1/accounts/{account['id']}/freeze").status_code == 403
    reviewer = client_as(app, "reviewer01")
    frozen = reviewer.post(f"/api/v1/accounts/{account['id']}/freeze")
    assert frozen.status_code == 200 and frozen.get_json()["status"] == "06"
    assert reviewer.post(f"/api/v1/accounts/{account['id']}/freeze").status_code == 409
    thawed = reviewer.post(f"/api/v1/accounts/{account['id']}/unfreeze")
    assert thawed.status_code == 200 and thawed.get_json()["status"] == "02"


def test_base_changes_stay_within_the_bounds(app):
    teller = client_as(app, "teller01")
    unit = open_unit(teller, app, 27)
    account = open_account(teller, unit["id"], 6)
    high = teller.put(f"/api/v1/accounts/{account['id']}/base", json={"deposit_base": "30000.00"})
    assert high.status_code == 422 and "deposit_base" in high.get_json()["details"]
    done = teller.put(f"/api/v1/accounts/{account['id']}/base", json={"deposit_base": "7000.00"})
    assert done.status_code == 200 and done.get_json()["deposit_base"] == "7000.00"


def test_accounts_are_seen_and_opened_only_within_the_data_scope(app):
    teller = client_as(app, "teller01")
    unit = open_unit(teller, app, 28)
    account = open_account(teller, unit["id"], 7)
    east = client_as(app, "teller02")
    assert east.get(f"/api/v1/accounts/{account['id']}").get_json()["code"] == "out_of_scope"
    assert east.get("/api/v1/accounts", query_string={"id_number": id_number(7)}).get_json() == []
    assert east.post("/api/v1/accounts", json=new_person(unit["id"], 8)).status_code == 403
    assert east.post(f"/api/v1/accounts/{account['id']}/seal").status_code == 403
    assert teller.get("/api/v1/accounts/99999").status_code == 404
