"""The console's 基数调整 page (a list, all or nothing; or to the band) and the batch listing
of a whole month from the 汇缴管理 page."""

from __future__ import annotations

import io
import re

import openpyxl

from tests.conftest import console_login
from tests.integration.test_console_pages import post, text
from tests.integration.test_console_remittances import XLSX, flashes, this_month, unit_with_staff
from tests.integration.test_units_api import count

HEADER = "个人账号,姓名,缴存基数\n"


def test_bases_are_adjusted_from_a_list_all_or_nothing_or_to_the_band(client, app):
    console_login(client, "teller01")
    number, staff = unit_with_staff(client, app, 31)
    unit_id = count(app, f"SELECT id FROM unit WHERE unit_no = '{number}'")
    page = f"/units/{unit_id}/base-adjustment"
    assert "基数调整" in text(client.get(f"/units/{unit_id}"))
    assert "按清单调整" in text(client.get(page))
    accounts = [s.split(",")[0] for s in staff]

    bad = HEADER + f"{accounts[0]},林小明,6500.00\n{accounts[1]},林小明,100.00\n"
    rejected = post(client, page, {"file": (io.BytesIO(bad.encode()), "bases.csv")}, page=page)
    body = text(rejected)
    assert rejected.status_code == 422 and "未调整任何基数" in body and "缴存基数" in body
    link = re.search(r'href="(/remittances/import/report/[A-Za-z0-9_-]+)"', body).group(1)
    report = client.get(link)
    assert report.status_code == 200 and report.mimetype == XLSX
    openpyxl.load_workbook(io.BytesIO(report.data))
    assert count(app, f"SELECT COUNT(*) FROM individual_account WHERE unit_id = {unit_id} "
                      "AND deposit_base = 6000") == 2  # nothing changed

    good = HEADER + f"{accounts[0]},林小明,6500.00\n{accounts[1]},林小明,6000.00\n"
    done = post(client, page, {"file": (io.BytesIO(good.encode()), "bases.csv")}, page=page)
    assert done.status_code == 302, text(done)
    assert "1 人基数变更" in flashes(client, f"/units/{unit_id}")
    assert count(app, f"SELECT COUNT(*) FROM individual_account WHERE unit_id = {unit_id} "
                      "AND deposit_base = 6500") == 1

    banded = post(client, f"{page}/band", page=page)
    assert banded.status_code == 302
    assert "0 人基数变更" in flashes(client, f"/units/{unit_id}")
    empty = post(client, page, {}, page=page)
    assert empty.status_code == 422 and "请选择基数调整清单" in text(empty)


def test_a_whole_month_is_listed_from_the_remittance_page(client, app):
    console_login(client, "teller01")
    number, _ = unit_with_staff(client, app, 32)
    month = this_month(app)
    listed = post(client, "/remittances/month", {"month": month}, page="/remittances")
    assert listed.status_code == 302
    assert "已生成" in flashes(client, f"/remittances?month={month}")
    assert count(app, f"SELECT COUNT(*) FROM remittance r JOIN unit u ON u.id = r.unit_id "
                      f"WHERE u.unit_no = '{number}' AND r.month = '{month}'") == 1
    again = post(client, "/remittances/month", {"month": month}, page="/remittances")
    assert again.status_code == 302 and "汇缴单 0 张" in flashes(client, "/remittances")
    bad = post(client, "/remittances/month", {"month": "2026-13"}, page="/remittances")
    assert bad.status_code == 302 and "YYYYMM" in flashes(client, "/remittances")
