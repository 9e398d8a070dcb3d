"""The console's 会计核算 and 明细查询 pages: the menu by permission, 凭证查询 and one voucher,
试算平衡表, 年度结息 (a second run posts nothing), and the statements with their Excel export."""

from __future__ import annotations

import io

import openpyxl

from hpf.controllers.console.ledger import last_interest_year
from tests.conftest import console_login
from tests.integration.test_console_pages import menu, post, sign_out, text
from tests.integration.test_statements import build
from tests.integration.test_units_api import count


def voucher_of(app, business_type: str) -> int:
    return count(app, f"SELECT MIN(id) FROM ledger_voucher WHERE business_type = '{business_type}'")


def test_an_accountant_reads_the_books(app, client):
    books = build(app, 72)
    console_login(client, "accountant01")
    items = menu(client)
    assert "会计核算" in items and "凭证查询" in items and "试算平衡表" in items and "年度结息" in items

    listing = text(client.get("/ledger/vouchers"))
    assert "共 4 条" in listing and "年终结息" in listing and "汇缴" in listing
    only = text(client.get("/ledger/vouchers", query_string={"subject": "41101", "business_type": "09"}))
    assert "共 1 条" in only
    bad = client.get("/ledger/vouchers", query_string={"date_from": "2026-13-01"})
    assert bad.status_code == 422 and "日期格式应为 YYYY-MM-DD" in text(bad)

    voucher = text(client.get(f"/ledger/vouchers/{voucher_of(app, '09')}"))
    assert "住房公积金利息支出" in voucher and books.unit["name"] in voucher
    assert f"/units/{books.unit['id']}/statement" in voucher
    assert client.get("/ledger/vouchers/999999").status_code == 404

    trial = text(client.get("/ledger/trial-balance", query_string={"date": "2026-11-30"}))
    assert "借贷平衡" in trial and "depth-1" in trial and "住房公积金利息支出" in trial
    assert "不平衡" not in trial
    assert client.get("/ledger/trial-balance", query_string={"date": "30/11/2026"}).status_code == 422

    statement = text(client.get(f"/accounts/{books.a['id']}/statement"))
    assert books.a["account_no"] in statement and "期初余额" in statement and "年终结息" in statement
    assert f"/ledger/vouchers/{voucher_of(app, '09')}" in statement  # accountants follow the voucher


def test_the_interest_form_settles_once(app, client):
    build(app, 73)  # settles the 2026 interest year through the service
    console_login(client, "accountant01")
    page = text(client.get("/interest"))
    year = last_interest_year(app.extensions["hpf"].clock.today())
    assert f'value="{year}"' in page and "结息年度" in page

    again = post(client, "/interest", {"interest_year": "2026"}, page="/interest")
    assert again.status_code == 302
    assert "该年度已结息，本次未重复入账" in text(client.get(again.headers["Location"]))

    earlier = post(client, "/interest", {"interest_year": str(year - 1)}, page="/interest")
    assert earlier.status_code == 302
    assert "年度结息完成：0 户" in text(client.get(earlier.headers["Location"]))
    assert count(app, f"SELECT COUNT(*) FROM interest_run WHERE interest_year = {year - 1}") == 1
    repeated = post(client, "/interest", {"interest_year": str(year - 1)}, page="/interest")
    assert "该年度已结息，本次未重复入账" in text(client.get(repeated.headers["Location"]))

    future = post(client, "/interest", {"interest_year": str(year + 1)}, page="/interest")
    assert future.status_code == 422 and "不能结息" in text(future)
    blank = post(client, "/interest", {"interest_year": "abc"}, page="/interest")
    assert blank.status_code == 422 and "请输入四位年份" in text(blank)


def test_a_teller_reads_statements_but_not_the_books(app, client):
    books = build(app, 74)
    console_login(client, "teller01")
    assert "会计核算" not in menu(client)
    for path in ("/ledger/vouchers", "/ledger/trial-balance", "/interest",
                 f"/ledger/vouchers/{voucher_of(app, '01')}"):
        assert client.get(path).status_code == 403, path
    assert post(client, "/interest", {"interest_year": "2026"}, page="/").status_code == 403

    page = text(client.get(f"/accounts/{books.a['id']}/statement", query_string={"date_from": "2026-05-01"}))
    assert "1,320.00" in page and "3,960.00" in page and "导出Excel" in page and "承前页" not in page
    assert "/ledger/vouchers/" not in page  # no link where the page would refuse
    typed = text(client.get(f"/accounts/{books.a['id']}/statement", query_string={"business_type": "01"}))
    assert "不显示余额" in typed
    wrong = client.get(f"/accounts/{books.a['id']}/statement",
                       query_string={"date_from": "2026-06-01", "date_to": "2026-05-01"})
    assert wrong.status_code == 422 and "截止日期不能早于起始日期" in text(wrong)

    unit = text(client.get(f"/units/{books.unit['id']}/statement", query_string={"month_from": "2026-05"}))
    assert "按业务类型合计" in unit and "林小明" in unit and "共 4 条" in unit
    download = client.get(f"/units/{books.unit['id']}/statement.xlsx", query_string={"business_type": "09"})
    assert download.status_code == 200 and download.mimetype.endswith("spreadsheetml.sheet")
    assert openpyxl.load_workbook(io.BytesIO(download.data)).active["A1"].value == "单位明细对账单"
    assert count(app, "SELECT COUNT(*) FROM audit_event WHERE action = 'statement.export'") == 1
    back = client.get(f"/accounts/{books.a['id']}/statement.xlsx", query_string={"date_from": "x"})
    assert back.status_code == 302 and "/statement" in back.headers["Location"]

    sign_out(client)
    console_login(client, "teller02")  # another branch
    assert client.get(f"/accounts/{books.a['id']}/statement").status_code == 403
    assert client.get(f"/units/{books.unit['id']}/statement.xlsx").status_code == 403
