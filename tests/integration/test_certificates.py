"""缴存证明: issued by staff in scope, signed with SM2, printed as PDF, verified by anyone."""

from __future__ import annotations

import sqlalchemy as sa

from tests.integration.test_access_api import client_as
from tests.integration.test_accounts_api import open_account
from tests.integration.test_units_api import count, open_unit


def issued(app, serial: int = 61) -> tuple:
    teller = client_as(app, "teller01")
    unit = open_unit(teller, app, serial)
    account = open_account(teller, unit["id"], serial)
    response = teller.post(f"/api/v1/accounts/{account['id']}/certificates", json={"purpose": "贷款"})
    assert response.status_code == 201, response.get_json()
    return teller, account, response.get_json()


def test_a_teller_issues_a_signed_certificate_and_downloads_its_pdf(app):
    teller, account, cert = issued(app)
    assert len(cert["code"]) == 19 and cert["code"].count("-") == 3
    facts = cert["facts"]
    assert facts["name"] == "林**" and "********" in facts["id_number"]
    assert facts["account_no"] == account["account_no"] and facts["deposit_base"] == "6000.00"
    assert facts["monthly_amount"] and facts["purpose"] == "贷款" and cert["key_id"].startswith("doc")
    pdf = teller.get(f"/api/v1/certificates/{cert['code']}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF-1.4")
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert teller.get(f"/api/v1/certificates/{cert['code']}.pdf").data == pdf.data  # a reprint is identical
    assert count(app, "SELECT COUNT(*) FROM audit_event WHERE action = 'certificate.issue'") == 1


def test_anyone_verifies_the_code_without_signing_in(app):
    _teller, account, cert = issued(app, 62)
    anonymous = app.test_client()
    body = anonymous.get(f"/api/v1/certificates/{cert['code'].lower()}/verification").get_json()
    assert body["status"] == "valid" and body["signature_ok"] and body["facts"] == cert["facts"]
    assert body["public_key"].startswith("04") and body["key_id"] == cert["key_id"]
    page = anonymous.get("/verify", query_string={"code": cert["code"].replace("-", " ")})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-status="valid"' in html
    assert account["account_no"] in html and "林**" in html and account["id_number"] in html
    form = anonymous.get("/verify")
    assert form.status_code == 200 and "验证码" in form.get_data(as_text=True)


def test_the_signature_verifies_offline_with_the_published_key(app):
    from hpf import crypto

    _teller, _account, cert = issued(app, 63)
    body = app.test_client().get(f"/api/v1/certificates/{cert['code']}/verification").get_json()
    public = crypto.SM2PublicKey.from_hex(body["public_key"])
    assert public.verify(bytes.fromhex(body["signature"]), body["facts_text"].encode("utf-8"))


def test_a_tampered_row_is_invalid_and_an_unknown_code_is_not_found(app):
    _teller, _account, cert = issued(app, 64)
    code = cert["code"].replace("-", "")
    with app.extensions["hpf"].database.engine.begin() as conn:
        conn.execute(sa.text("UPDATE deposit_certificate SET facts = REPLACE(facts, '6000.00', '9000.00') "
                             "WHERE code = :c"), {"c": code})
    anonymous = app.test_client()
    body = anonymous.get(f"/api/v1/certificates/{code}/verification").get_json()
    assert body["status"] == "invalid" and not body["signature_ok"]
    with app.extensions["hpf"].database.engine.begin() as conn:
        conn.execute(sa.text("UPDATE deposit_certificate SET facts = REPLACE(facts, '9000.00', '6000.00'), "
                             "signature = '3006020101020101' WHERE code = :c"), {"c": code})
    assert anonymous.get(f"/api/v1/certificates/{code}/verification").get_json()["status"] == "invalid"
    missing = anonymous.get("/api/v1/certificates/2345-6789-ABCD-EFGH/verification").get_json()
    assert missing["status"] == "not_found" and missing["facts"] is None
    html = anonymous.get("/verify", query_string={"code": "2345-6789-ABCD-EFGH"}).get_data(as_text=True)
    assert 'data-status="not_found"' in html


def test_a_revoked_certificate_verifies_as_revoked(app):
    teller, _account, cert = issued(app, 65)
    assert teller.post(f"/api/v1/certificates/{cert['code']}/revocation").status_code == 200
    body = app.test_client().get(f"/api/v1/certificates/{cert['code']}/verification").get_json()
    assert body["status"] == "revoked" and body["signature_ok"] and body["revoked_at"]
    assert teller.post(f"/api/v1/certificates/{cert['code']}/revocation").status_code == 409


def test_out_of_scope_and_anonymous_staff_calls_are_refused(app):
    _teller, account, cert = issued(app, 66)
    east = client_as(app, "teller02")
    refused = east.post(f"/api/v1/accounts/{account['id']}/certificates", json={"purpose": "租房"})
    assert refused.status_code == 403 and refused.get_json()["code"] == "out_of_scope"
    assert east.get(f"/api/v1/certificates/{cert['code']}.pdf").status_code == 403
    anonymous = app.test_client()
    assert anonymous.post(f"/api/v1/accounts/{account['id']}/certificates",
                          json={"purpose": "租房"}).status_code == 401
    assert anonymous.get(f"/api/v1/certificates/{cert['code']}.pdf").status_code == 401
    bad = _teller.post(f"/api/v1/accounts/{account['id']}/certificates", json={"purpose": "买车"})
    assert bad.status_code == 422
    assert count(app, "SELECT COUNT(*) FROM deposit_certificate") == 1


def test_the_console_button_issues_and_downloads(app):
    teller = client_as(app, "teller01")
    unit = open_unit(teller, app, 67)
    account = open_account(teller, unit["id"], 67)
    with teller.session_transaction() as session:
        session["csrf"] = "t"
    response = teller.post(f"/accounts/{account['id']}/certificate",
                           data={"csrf_token": "t", "purpose": "租房"})
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert count(app, "SELECT COUNT(*) FROM deposit_certificate WHERE purpose = '租房'") == 1
