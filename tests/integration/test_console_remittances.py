"""The console's 汇缴管理 pages: a teller lists a unit's month from the roster, the unit pays at the
simulated bank, the credit is fetched and matched, the remittance is posted and a 错缴更正 waits
for review; a wrong 清册 shows every bad row and its Excel report downloads for that user only;
people without the permissions are refused."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl

from hpf.domain.calendar import business_date
from tests.conftest import console_login
from tests.integration.test_accounts_api import id_number
from tests.integration.test_console_collection import open_account, open_unit, unit_no
from tests.integration.test_console_pages import menu, post, sign_out, text
from tests.integration.test_units_api import count

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = "个人账号,姓名,证件号码,缴存基数,单位月缴存额,个人月缴存额\n"


def this_month(app) -> str:
    return business_date(app.extensions["hpf"].clock.now()).strftime("%Y%m")


def unit_with_staff(client, app, serial: int, people: int = 2) -> tuple[str, list[str]]:
    """A unit opened through the forms with ``people`` accounts (林小明, base 6,000.00, 12% + 10%):
    its 单位账号 and each person's 清册 columns 个人账号,姓名,证件号码."""
    number = unit_no(client, open_unit(client, serial))
    staff = []
    for n in range(people):
        account_id = open_account(client, number, serial * 10 + n)
        account = count(app, f"SELECT account_no FROM individual_account WHERE id = {account_id}")
        staff.append(f"{account},林小明,{id_number(serial * 10 + n)}")
    return number, staff


def list_month(client, number: str, month: str) -> int:
    done = post(client, "/remittances", {"unit_no": number, "month": month, "kind": "01"},
                page="/remittances/new")
    assert done.status_code == 302, text(done)
    return int(re.fullmatch(r"/remittances/(\d+)", done.headers["Location"]).group(1))


def flashes(client, path: str) -> str:
    """The flash messages the next page shows."""
    return " ".join(re.findall(r'<div class="alert alert-\w+"[^>]*>([^<]*)</div>', text(client.get(path))))


def test_a_remittance_is_listed_paid_fetched_and_posted(client, app):
    console_login(client, "teller01")
    items = menu(client)
    assert "汇缴管理" in items and "银行到账" in items
    number, _ = unit_with_staff(client, app, 11)
    month = this_month(app)

    missing = post(client, "/remittances", {"unit_no": number, "month": ""}, page="/remittances/new")
    body = text(missing)
    assert missing.status_code == 422
    assert 'class="field-error"' in body[body.index('for="f-month"'):]
    unknown = post(client, "/remittances", {"unit_no": "000", "month": month}, page="/remittances/new")
    assert unknown.status_code == 422 and "本人数据范围内没有该单位账号" in text(unknown)
    back_pay = text(client.get("/remittances/new", query_string={"kind": "02"}))
    assert "补缴截止年月" in back_pay and "补缴原因" in back_pay

    remittance_id = list_month(client, number, month)
    here = f"/remittances/{remittance_id}"
    detail = text(client.get(here))
    assert "已生成汇缴单" in detail and "2 人" in detail and "2,640.00 元" in detail
    assert "待到账" in detail and "模拟银行转账" in detail and "作废" in detail and "匹配到账" in detail
    reference = re.search(r'<code id="payment-reference">([^<]+)</code>', detail).group(1)
    twice = post(client, "/remittances", {"unit_no": number, "month": month}, page="/remittances/new")
    assert twice.status_code == 409 and "已有汇缴单" in text(twice)
    listing = text(client.get("/remittances", query_string={"unit_no": number}))
    assert "共 1 条" in listing and "2,640.00" in listing and "待到账" in listing
    assert "共 0 条" in text(client.get("/remittances", query_string={"status": "03", "unit_no": number}))

    # a wrong amount is not matched, and cannot be matched by hand
    paid = post(client, f"{here}/simulate", {"delay_days": "0", "amount_error": "-0.01"}, page=here)
    assert paid.status_code == 302 and "2,639.99" in flashes(client, here)
    fetched = post(client, "/remittances/credits/fetch", page="/remittances/credits")
    assert fetched.status_code == 302
    assert "新到账 1 笔，自动匹配 0 笔，金额不符 1 笔" in flashes(client, "/remittances/credits")
    credits = text(client.get("/remittances/credits"))
    assert "金额不符" in credits and reference in credits and "2,639.99" in credits
    credit_id = re.search(r'<option value="(\d+)">', text(client.get(here))).group(1)
    by_hand = post(client, f"{here}/match", {"credit_id": credit_id}, page=here)
    assert by_hand.status_code == 422 and "到账金额须与汇缴金额一致" in text(by_hand)
    bad = post(client, f"{here}/simulate", {"delay_days": "99", "amount_error": "0.001"}, page=here)
    assert bad.status_code == 422 and text(bad).count('class="field-error"') == 2

    # the right amount: fetched, matched, posted from the list
    paid = post(client, f"{here}/simulate", {"delay_days": "0", "amount_error": "0"}, page=here)
    assert paid.status_code == 302
    post(client, "/remittances/credits/fetch", page="/remittances/credits")
    assert "自动匹配 1 笔" in flashes(client, "/remittances/credits")
    assert "已到账" in text(client.get(here))
    listing = text(client.get("/remittances", query_string={"status": "02"}))
    assert f'name="remittance_ids" value="{remittance_id}"' in listing and "批量入账" in listing
    posted = post(client, "/remittances/post", {"remittance_ids": str(remittance_id), "next": "/remittances"},
                  page="/remittances")
    assert posted.status_code == 302 and posted.headers["Location"] == "/remittances"
    assert "已入账 1 张汇缴单，2 笔个人明细，合计 2,640.00 元" in flashes(client, "/remittances")
    detail = text(client.get(here))
    assert "已入账" in detail and "错缴更正申请" in detail
    again = post(client, "/remittances/post", {"remittance_ids": str(remittance_id), "next": here}, page=here)
    assert again.status_code == 302 and "本批未入账" in flashes(client, here)
    assert count(app, "SELECT COUNT(*) FROM remittance WHERE status = '03'") == 1



def paid_and_posted(client, app, serial: int) -> str:
    """A unit's month listed, paid at the simulated bank, fetched and posted: its detail page."""
    number, _ = unit_with_staff(client, app, serial, people=1)
    here = f"/remittances/{list_month(client, number, this_month(app))}"
    assert post(client, f"{here}/simulate", {"delay_days": "0"}, page=here).status_code == 302
    post(client, "/remittances/credits/fetch", page="/remittances/credits")
    chosen = {"remittance_ids": here.rsplit("/", 1)[1], "next": here}
    posted = post(client, "/remittances/post", chosen, page=here)
    assert posted.status_code == 302 and "已入账 1 张汇缴单" in flashes(client, here)
    return here


def test_a_correction_request_waits_in_the_reviewers_inbox(client, app):
    console_login(client, "teller01")
    here = paid_and_posted(client, app, 14)
    blank = post(client, f"{here}/reversal", {"reason": " "}, page=here)
    assert blank.status_code == 422 and 'class="field-error"' in text(blank)
    asked = post(client, f"{here}/reversal", {"reason": "基数报错"}, page=here)
    assert asked.status_code == 302 and "错缴更正申请已提交，待复核" in flashes(client, here)
    assert count(app, "SELECT COUNT(*) FROM approval_request WHERE status = 'pending'") == 1
    assert "已入账" in text(client.get(here))  # nothing changes until it is approved
    sign_out(client)
    console_login(client, "reviewer01")
    assert "错缴更正" in text(client.get("/approvals"))


def test_a_wrong_list_shows_every_bad_row_and_the_report_downloads_for_that_user_only(client, app):
    console_login(client, "teller01")
    number, accounts = unit_with_staff(client, app, 12)
    template = client.get("/remittances/import/template")
    assert template.status_code == 200 and template.mimetype == XLSX
    openpyxl.load_workbook(io.BytesIO(template.data))
    bad = HEADER + f"{accounts[0]},6000.00,720.00,600.00\n999999999,无此人,,3000.00,360.00,300.00\n"
    form = {"unit_no": number, "month": this_month(app), "kind": "01",
            "file": (io.BytesIO(bad.encode()), "list.csv")}
    rejected = post(client, "/remittances/import", form, page="/remittances/import")
    body = text(rejected)
    assert rejected.status_code == 422 and "未导入任何数据" in body
    assert "行号" in body and "错误原因" in body and "原值" in body and "999999999" in body
    link = re.search(r'href="(/remittances/import/report/[A-Za-z0-9_-]+)"', body).group(1)
    assert count(app, "SELECT COUNT(*) FROM remittance") == 0

    report = client.get(link)
    assert report.status_code == 200 and report.mimetype == XLSX
    rows = [[c.value for c in r] for r in openpyxl.load_workbook(io.BytesIO(report.data)).active.iter_rows()]
    assert any("999999999" in [str(v) for v in r] for r in rows)
    assert len(list((Path(app.instance_path) / "reports").glob("*.xlsx"))) == 1
    other = app.test_client()
    console_login(other, "teller01")
    assert other.get(link).status_code == 404  # another session: not its report

    good = HEADER + "".join(f"{a},6000.00,720.00,600.00\n" for a in accounts)
    form["file"] = (io.BytesIO(good.encode("utf-8-sig")), "list.csv")
    imported = post(client, "/remittances/import", form, page="/remittances/import")
    assert imported.status_code == 302, text(imported)
    detail = text(client.get(imported.headers["Location"]))
    assert "清册导入" in detail and "2,640.00 元" in detail


def test_people_without_the_permissions_are_refused(client, app):
    console_login(client, "teller01")
    number, _ = unit_with_staff(client, app, 13, people=1)
    remittance_id = list_month(client, number, this_month(app))
    sign_out(client)

    console_login(client, "reviewer01")  # may look, may not act
    assert "汇缴管理" in menu(client) and "银行到账" not in menu(client)
    assert client.get(f"/remittances/{remittance_id}").status_code == 200
    assert "模拟银行转账" not in text(client.get(f"/remittances/{remittance_id}"))
    assert client.get("/remittances/new").status_code == 403
    assert client.get("/remittances/credits").status_code == 403
    assert post(client, f"/remittances/{remittance_id}/cancel").status_code == 403
    assert post(client, "/remittances/post", {"remittance_ids": str(remittance_id)}).status_code == 403
    assert post(client, "/remittances/credits/fetch").status_code == 403
    sign_out(client)

    console_login(client, "teller02")  # another branch: not in the data scope
    assert client.get(f"/remittances/{remittance_id}").status_code == 403
    assert number not in text(client.get("/remittances"))
    sign_out(client)

    console_login(client, "sysadmin")
    assert "汇缴管理" not in menu(client)
    assert client.get("/remittances").status_code == 403
    assert client.get(f"/remittances/{remittance_id}").status_code == 403
    assert count(app, "SELECT COUNT(*) FROM audit_event WHERE action = 'access.denied'") >= 6
