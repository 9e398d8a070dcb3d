"""The console's 归集业务 pages: 单位 and 个人账户 — the menu by permission, 开户 through the forms,
field errors that write nothing, escaping, the data scope and who may freeze."""

from __future__ import annotations

import re

from tests.conftest import console_login
from tests.integration.test_accounts_api import id_number
from tests.integration.test_console_pages import SCRIPT, menu, post, sign_out, text
from tests.integration.test_units_api import count, credit_code, make_normal


def unit_form(serial: int, **overrides) -> dict:
    return {"credit_code": credit_code(serial), "name": f"示范科技有限公司{serial}", "unit_ratio": "12",
            "person_ratio": "10", "deposit_day": "10", "bank_name": "工商银行示范支行",
            "bank_account": "6222021234567891234", "contact_name": "张三", "contact_phone": "13812345678",
            **overrides}


def open_unit(client, serial: int, **overrides) -> int:
    """单位开户 through the form (the managing branch as the page preselects it); the new unit's id."""
    page = text(client.get("/units/new"))
    org_id = re.search(r'<option value="(\d+)" selected>', page).group(1)
    done = post(client, "/units", {"org_id": org_id, **unit_form(serial, **overrides)}, page="/units/new")
    assert done.status_code == 302, text(done)
    return int(re.fullmatch(r"/units/(\d+)", done.headers["Location"]).group(1))


def unit_no(client, unit_id: int) -> str:
    return re.search(r"<small class=\"muted\">(\d+)</small>", text(client.get(f"/units/{unit_id}"))).group(1)


def open_account(client, unit: str, serial: int) -> int:
    form = {"name": "林小明", "id_type": "01", "id_number": id_number(serial), "phone": "13912345678",
            "unit_no": unit, "deposit_base": "6000.00"}
    done = post(client, "/accounts", form, page="/accounts/new")
    assert done.status_code == 302, text(done)
    return int(re.fullmatch(r"/accounts/(\d+)", done.headers["Location"]).group(1))


def test_the_collection_menu_is_shown_to_counter_staff_only(client):
    console_login(client, "teller01")
    items = menu(client)
    assert "归集业务" in items and "单位" in items and "个人账户" in items
    assert items.index("复核待办") < items.index("归集业务")
    sign_out(client)
    console_login(client, "sysadmin")
    assert "归集业务" not in menu(client)
    assert client.get("/units").status_code == 403 and client.get("/accounts").status_code == 403


def test_a_teller_opens_a_unit_and_an_account_through_the_forms(client, app):
    console_login(client, "teller01")
    listing = text(client.get("/units"))
    assert "单位开户" in listing and "本人数据范围内暂无单位" in listing
    new = text(client.get("/units/new"))
    assert "规定范围 5% ~ 12%" in new and "市直管理部" in new and "东城管理部" not in new
    unit_id = open_unit(client, 1)
    detail = text(client.get(f"/units/{unit_id}"))
    assert "已开户" in detail and "示范科技有限公司1" in detail and "单位 12% · 个人 10%" in detail
    assert "6222 **** **** 1234" in detail and "6222021234567891234" not in detail
    found = text(client.get("/units", query_string={"q": "科技"}))
    assert "示范科技有限公司1" in found and "12% / 10%" in found and "共 1 条" in found
    number = unit_no(client, unit_id)
    assert "下限 2,030.00 元" in text(client.get("/accounts/new", query_string={"unit_no": number}))

    account_id = open_account(client, number, 1)
    page = text(client.get(f"/accounts/{account_id}"))
    assert "已开户" in page and "6,000.00 元" in page and "350102********" + id_number(1)[-4:] in page
    assert id_number(1) not in page and "基数调整" in page and "封存" in page
    search = text(client.get("/accounts", query_string={"id_number": id_number(1)}))
    assert "林小明" in search and id_number(1) not in search.replace(f'value="{id_number(1)}"', "")
    assert count(app, "SELECT COUNT(*) FROM audit_event WHERE action IN ('unit.open', 'account.open')") == 2

    again = post(client, "/accounts", {"name": "林小明", "id_type": "01", "id_number": id_number(1),
                                       "unit_no": number, "deposit_base": "6000"}, page="/accounts/new")
    assert again.status_code == 409 and "每人只能有一个住房公积金账户" in text(again)
    here = f"/accounts/{account_id}"
    low = post(client, f"{here}/base", {"deposit_base": "100"}, page=here)
    assert low.status_code == 422 and 'class="field-error"' in text(low)


def test_a_bad_credit_code_is_shown_at_the_field_and_nothing_is_written(client, app):
    console_login(client, "teller01")
    bad = credit_code(2)[:-1] + ("0" if credit_code(2)[-1] != "0" else "1")
    page = text(client.get("/units/new"))
    org_id = re.search(r'<option value="(\d+)" selected>', page).group(1)
    response = post(client, "/units", {"org_id": org_id, **unit_form(2, credit_code=bad)}, page="/units/new")
    body = text(response)
    assert response.status_code == 422
    field = body[body.index('for="f-credit_code"'):body.index('for="f-name"')]
    assert 'class="field-error"' in field and 'aria-invalid="true"' in field
    assert "示范科技有限公司2" in body  # the form keeps what was typed
    too_high = unit_form(3, unit_ratio="13")
    out_of_band = post(client, "/units", {"org_id": org_id, **too_high}, page="/units/new")
    assert out_of_band.status_code == 422 and 'class="field-error"' in text(out_of_band)
    assert count(app, "SELECT COUNT(*) FROM unit") == 0


def test_a_script_in_a_unit_name_is_shown_as_text(client):
    console_login(client, "teller01")
    unit_id = open_unit(client, 4, name=SCRIPT)
    for path in ("/units", f"/units/{unit_id}"):
        page = text(client.get(path))
        assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_another_branch_cannot_see_the_unit(client):
    console_login(client, "teller01")
    unit_id = open_unit(client, 5)
    sign_out(client)
    console_login(client, "teller02")
    assert client.get(f"/units/{unit_id}").status_code == 403
    assert "示范科技有限公司5" not in text(client.get("/units"))


def test_only_a_reviewer_freezes_an_account(client, app):
    console_login(client, "teller01")
    account_id = open_account(client, unit_no(client, open_unit(client, 6)), 6)
    page = text(client.get(f"/accounts/{account_id}"))
    assert "/freeze" not in page
    refused = post(client, f"/accounts/{account_id}/freeze", page=f"/accounts/{account_id}")
    assert refused.status_code == 403
    sign_out(client)

    console_login(client, "reviewer01")
    page = text(client.get(f"/accounts/{account_id}"))
    assert f"/accounts/{account_id}/freeze" in page and "基数调整" not in page
    done = post(client, f"/accounts/{account_id}/freeze", page=f"/accounts/{account_id}")
    assert done.status_code == 302
    page = text(client.get(f"/accounts/{account_id}"))
    assert "账户已冻结" in page and f"/accounts/{account_id}/unfreeze" in page
    assert post(client, f"/accounts/{account_id}/unfreeze", page=f"/accounts/{account_id}").status_code == 302
    assert count(app, "SELECT COUNT(*) FROM audit_event WHERE action = 'account.freeze'") == 1


def test_a_deferral_waits_for_approval_and_closing_needs_no_staff(client, app):
    console_login(client, "teller01")
    unit_id = open_unit(client, 7)
    open_account(client, unit_no(client, unit_id), 7)
    make_normal(app, unit_id)  # what the first 汇缴 does
    reason = {"reason": "经营困难，职代会通过"}
    done = post(client, f"/units/{unit_id}/deferral", reason, page=f"/units/{unit_id}")
    assert done.status_code == 302
    page = text(client.get(f"/units/{unit_id}"))
    assert "已提交，待审批" in page and "正常" in page
    assert "/close" not in page  # 销户 needs unit:close
    sign_out(client)

    console_login(client, "approver01")
    page = text(client.get(f"/units/{unit_id}"))
    assert f"/units/{unit_id}/close" in page and "尚有 1 个职工账户" in page
    closing = post(client, f"/units/{unit_id}/close", page=f"/units/{unit_id}")
    assert closing.status_code == 409 and "不能销户" in text(closing)
