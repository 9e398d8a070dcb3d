"""汇缴管理 in a real browser against the real server: a teller imports a wrong 清册 and sees every
bad row (and downloads the Excel report), lists the month from the roster instead, the unit pays
at the simulated bank, the credit is fetched and matched, and the remittance is posted from the
list."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest

from hpf.domain.identity_codes import credit_check_char, resident_check_char
from tests.browser.test_admin_flow import flash, menu, sign_in

pytestmark = pytest.mark.browser

FIRST17 = "91350100MA9B07311"
CREDIT_CODE = FIRST17 + credit_check_char(FIRST17)
ID_NUMBER = "35010219900307731"
ID_NUMBER += resident_check_char(ID_NUMBER)
HEADER = "个人账号,姓名,证件号码,缴存基数,单位月缴存额,个人月缴存额\n"
FETCH_TRIES = 12  # the simulated bank lives in one server worker's memory: ask until that one answers


def open_unit_with_staff(page) -> str:
    """单位开户 and one 职工开户 (base 8,000.00) through the forms; the 单位账号."""
    page.goto("/units/new")
    for field, value in (("credit_code", CREDIT_CODE), ("name", "福州汇缴示范有限公司"), ("unit_ratio", "12"),
                         ("person_ratio", "12"), ("bank_name", "中国建设银行福州分行"),
                         ("bank_account", "3505010100123456789"), ("contact_name", "黄敏"),
                         ("contact_phone", "13959112346")):
        page.fill(f"#f-{field}", value)
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    unit_no = page.inner_text("h1 small")
    with page.expect_navigation():
        page.click(".page-actions >> text=职工开户")
    page.fill("#f-name", "郑晓燕")
    page.fill("#f-id_number", ID_NUMBER)
    page.fill("#f-deposit_base", "8000")
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    assert "已开户" in flash(page)
    return unit_no


def test_a_teller_lists_pays_and_posts_a_remittance(page, shot):
    sign_in(page, "teller01", "Demo@2026", {})
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations of 入账
    assert "汇缴管理" in menu(page) and "银行到账" in menu(page)
    unit_no = open_unit_with_staff(page)

    # a wrong 清册: every bad row is listed, nothing is imported, the report downloads
    # (typing into the 单位账号 field opens its suggestion list, which can stall headless Chromium:
    # the unit comes in the address, as from a link, and the page switches carry it on)
    page.goto(f"/remittances/import?unit_no={unit_no}")
    assert page.input_value("#f-unit_no") == unit_no
    rows = HEADER + "999999999,无此人,,3000.00,360.00,300.00\n"
    page.set_input_files("#f-file", {"name": "清册.csv", "mimeType": "text/csv", "buffer": rows.encode()})
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    assert "处错误" in flash(page) and "未导入任何数据" in page.inner_text("#import-errors h2")
    errors = page.inner_text("#import-errors")
    assert "行号" in errors and "999999999" in errors
    with page.expect_download() as download:
        page.click("text=下载错误报告（Excel）")
    sheet = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    assert any("999999999" in [str(c.value) for c in row] for row in sheet.iter_rows())
    shot(page, "14-remittance-import-errors.png")

    # from the roster instead
    with page.expect_navigation():
        page.click(".page-actions >> text=改为按花名册生成")
    assert page.input_value("#f-unit_no") == unit_no
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    assert "已生成汇缴单" in flash(page)
    remittance_no = page.inner_text("h1 small")
    facts = page.inner_text("dl.kv")
    assert "1,920.00 元" in facts and "待到账" in facts
    assert remittance_no in page.inner_text("#payment-reference")
    shot(page, "15-remittance-detail.png")

    # the unit pays at the simulated bank; the credit is fetched and matched
    with page.expect_navigation():
        page.click("button:has-text('模拟银行转账')")
    assert "已在模拟银行登记单位转账 1,920.00 元" in flash(page)
    detail = page.url
    page.click("nav.sidebar >> text=银行到账")
    for _ in range(FETCH_TRIES):
        with page.expect_navigation():
            page.click(".page-actions >> text=获取银行到账")
        if "自动匹配 1 笔" in flash(page):
            break
    else:
        pytest.fail(f"the credit was never matched: {flash(page)}")
    page.goto(detail)
    assert "已到账" in page.inner_text("dl.kv")

    # posted from the list
    page.goto(f"/remittances?unit_no={unit_no}")
    page.check(f"input[aria-label='选择 {remittance_no}']")
    with page.expect_navigation():
        page.click("text=批量入账")
    assert re.search(r"已入账 1 张汇缴单，1 笔个人明细，合计 1,920.00 元", flash(page))
    assert "已入账" in page.inner_text("table")
    shot(page, "16-remittance-posted.png")
