"""会计核算 and 明细查询 in a real browser: the books are filled through the real services
(an application in this process over the server's database: a unit, two people, three
months paid and the year's interest settled), then an accountant reads the trial balance,
follows a voucher from the list, and a teller reads a statement."""

from __future__ import annotations

import pytest

from hpf.config import load_settings
from hpf.repositories.database import open_app_database
from tests.browser.test_admin_flow import menu, sign_in
from tests.conftest import TEST_KEK
from tests.integration.test_statements import build

pytestmark = pytest.mark.browser


@pytest.fixture
def books(console):
    """The postings, through an in-process application sharing the server's SQLite file."""
    from hpf.app import create_app

    settings = load_settings(environ={}, overrides={"instance_path": str(console.instance / "in-process"),
                                                    "log.format": "text", "crypto.kek": TEST_KEK})
    database = open_app_database(settings, console.db_url)
    app = create_app(settings, database=database)
    app.config["TESTING"] = True
    try:
        yield build(app, 75)
    finally:
        database.dispose()


def test_an_accountant_reads_the_books_and_a_teller_a_statement(page, books, shot):
    sign_in(page, "accountant01", "Demo@2026", {})
    assert {"凭证查询", "试算平衡表", "年度结息"} <= set(menu(page))

    page.click("nav.sidebar >> text=试算平衡表")
    page.fill("input[name=date]", "2026-11-30")
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    table = page.inner_text("table")
    assert "住房公积金利息支出" in table and "借贷平衡" in table
    shot(page, "20-trial-balance.png")

    page.click("nav.sidebar >> text=凭证查询")
    page.select_option("select[name=business_type]", "09")
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    with page.expect_navigation():
        page.click("table >> text=查看")
    body = page.inner_text("main")
    assert "记账凭证" in body and books.unit["name"] in body and "住房公积金利息支出" in body
    shot(page, "21-voucher.png")

    page.context.clear_cookies()
    sign_in(page, "teller01", "Demo@2026", {})
    page.goto(f"/accounts/{books.a['id']}/statement")
    body = page.inner_text("main")
    assert books.a["account_no"] in body and "期初余额" in body and "年终结息" in body
    with page.expect_download() as download:
        page.click(".page-actions >> text=导出Excel")
    assert download.value.suggested_filename.endswith(".xlsx")
