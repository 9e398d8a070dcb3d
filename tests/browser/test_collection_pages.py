"""归集业务 in a real browser against the real server: a teller opens a unit and a staff account
through the forms, finds both again, and the ID number is only ever shown masked."""

from __future__ import annotations

import pytest

from hpf.domain.identity_codes import credit_check_char, resident_check_char
from tests.browser.test_admin_flow import menu, sign_in

pytestmark = pytest.mark.browser

FIRST17 = "91350100MA9B07301"
CREDIT_CODE = FIRST17 + credit_check_char(FIRST17)
ID_NUMBER = "350102199003077301"[:17] + resident_check_char("350102199003077301"[:17])


def test_a_teller_opens_a_unit_and_an_account(page, shot):
    sign_in(page, "teller01", "Demo@2026", {})
    assert "单位" in menu(page) and "个人账户" in menu(page)

    page.click("nav.sidebar >> text=单位")
    with page.expect_navigation():
        page.click(".page-actions >> text=单位开户")
    page.fill("#f-credit_code", CREDIT_CODE)
    page.fill("#f-name", "福州示范软件有限公司")
    page.fill("#f-unit_ratio", "12")
    page.fill("#f-person_ratio", "12")
    page.fill("#f-bank_name", "中国工商银行福州鼓楼支行")
    page.fill("#f-bank_account", "1402020109000123456")
    page.fill("#f-contact_name", "陈晓")
    page.fill("#f-contact_phone", "13959112345")
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    assert "已开户" in page.inner_text(".flashes")
    unit_no = page.inner_text("h1 small")

    with page.expect_navigation():
        page.click(".page-actions >> text=职工开户")
    assert page.input_value("#f-unit_no") == unit_no
    page.fill("#f-name", "林小明")
    page.fill("#f-id_number", ID_NUMBER)
    page.fill("#f-phone", "13912345678")
    page.fill("#f-deposit_base", "8500")
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    assert "已开户" in page.inner_text(".flashes")
    body = page.inner_text("main")
    assert ID_NUMBER not in body and ID_NUMBER[-4:] in body and "8,500.00" in body
    shot(page, "13-account-detail.png")

    page.click("main >> text=福州示范软件有限公司")
    page.wait_for_url("**/units/*")
    assert "1 人" in page.inner_text("main")
    shot(page, "12-unit-detail.png")

    page.goto("/units?q=示范软件")
    assert unit_no in page.inner_text("table") and "12% / 12%" in page.inner_text("table")
    shot(page, "11-unit-list.png")
