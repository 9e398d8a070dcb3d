"""明细对账单 over data posted through the real services: remittances listed, credited at the
bank (value dates chosen by the test), posted, and the year's interest settled. The account
statement's running balance holds across pages and date filters, a business type filter
shows no balance, the unit statement totals per type, the Excel export reads back with
openpyxl and is audited, and other branches and roles are refused."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace

import openpyxl
import pytest

from hpf.domain import matching
from hpf.domain.errors import Forbidden, ValidationFailed
from hpf.repositories.uow import UnitOfWork
from hpf.services import access, interest, remittance, statements
from hpf.services.audit import Who
from tests.integration.test_access_api import client_as
from tests.integration.test_accounts_api import new_person
from tests.integration.test_units_api import count, open_unit

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
WHO = Who("test")
MONTHS = (("202604", date(2026, 4, 15)), ("202605", date(2026, 5, 15)), ("202606", date(2026, 6, 15)))
A_MONTH = Decimal("1320.00")  # 6000 × (12% + 10%)
B_MONTH = Decimal("1100.00")  # 5000 × (12% + 10%)


def principal(app, username: str):
    uow = UnitOfWork(app.extensions["hpf"].database)
    with uow:
        return access.load(uow, uow.users.by_username(username))


def uow_of(app) -> UnitOfWork:
    return UnitOfWork(app.extensions["hpf"].database)


def pay_month(app, teller, unit_id: int, month: str, value_date: date, serial: int) -> None:
    """汇缴 from the roster, the bank's credit on ``value_date``, matched and posted."""
    listed = remittance.create(uow_of(app), teller, WHO, NOW, unit_id, month)
    credit = SimpleNamespace(bank_ref=f"BK{serial:06d}{month}", payer_account="6222021234567891234",
                             payer_name="示范科技有限公司", amount=listed.total, value_date=value_date,
                             reference=matching.reference_for(listed.remittance_no))
    matched = remittance.receive_credits(uow_of(app), teller, WHO, NOW, [credit])
    assert matched.matched == 1, matched
    remittance.post(uow_of(app), teller, WHO, NOW, [listed.id])


def build(app, serial: int = 71) -> SimpleNamespace:
    """A unit of two people, three months paid and the 2026 interest year settled."""
    api = client_as(app, "teller01")
    unit = open_unit(api, app, serial)
    people = []
    for n, base in ((1, "6000.00"), (2, "5000.00")):
        body = new_person(unit["id"], serial * 10 + n, deposit_base=base)
        response = api.post("/api/v1/accounts", json=body)
        assert response.status_code == 201, response.get_json()
        people.append(response.get_json())
    teller = principal(app, "teller01")
    for month, value_date in MONTHS:
        pay_month(app, teller, unit["id"], month, value_date, serial)
    settled = interest.settle_year(uow_of(app), principal(app, "accountant01"), WHO, NOW, 2026)
    assert settled.accounts == 2 and settled.total > 0
    return SimpleNamespace(unit=unit, a=people[0], b=people[1], teller=teller, api=api, settled=settled)


@pytest.fixture
def books(app):
    return build(app)


def test_the_running_balance_holds_across_pages_and_ends_at_the_balance(app, books):
    first = statements.account_statement(uow_of(app), books.teller, books.a["id"], per_page=2)
    assert first.total == 4 and first.opening == Decimal("0.00") and first.page_opening == Decimal("0.00")
    assert [line.balance for line in first.lines] == [A_MONTH, 2 * A_MONTH]
    assert [line.business_type_name for line in first.lines] == ["汇缴", "汇缴"]
    assert first.lines[0].month == "202604" and first.lines[0].unit_part == Decimal("720.00")

    second = statements.account_statement(uow_of(app), books.teller, books.a["id"], page=2, per_page=2)
    assert second.page_opening == 2 * A_MONTH
    paid, accrued = second.lines
    assert paid.balance == 3 * A_MONTH
    assert accrued.business_type == "09" and accrued.value_date == date(2026, 6, 30)
    assert accrued.balance == 3 * A_MONTH + accrued.amount
    assert second.header.balance == accrued.balance == second.closing
    assert second.income == 3 * A_MONTH + accrued.amount and second.expense == Decimal("0.00")
    assert second.header.name == "林小明" and "*" in second.header.id_number and second.header.unit_no


def test_a_date_filter_opens_with_the_balance_before_it(app, books):
    june = statements.account_statement(uow_of(app), books.teller, books.a["id"], date_from=date(2026, 5, 1),
                                        date_to=date(2026, 6, 15))
    assert june.opening == A_MONTH and june.total == 2
    assert [line.balance for line in june.lines] == [2 * A_MONTH, 3 * A_MONTH]
    assert june.income == 2 * A_MONTH and june.closing == 3 * A_MONTH

    later = statements.account_statement(uow_of(app), books.teller, books.a["id"], date_from=date(2026, 5, 1),
                                         page=2, per_page=1)
    assert later.opening == A_MONTH and later.page_opening == 2 * A_MONTH
    assert later.lines[0].balance == 3 * A_MONTH


def test_a_business_type_filter_shows_no_balance(app, books):
    paid = statements.account_statement(uow_of(app), books.teller, books.a["id"], business_type="01")
    assert paid.total == 3 and paid.opening is None and paid.closing is None
    assert all(line.balance is None for line in paid.lines) and paid.income == 3 * A_MONTH
    with pytest.raises(ValidationFailed):
        statements.account_statement(uow_of(app), books.teller, books.a["id"], date_from=date(2026, 6, 1),
                                     date_to=date(2026, 5, 1))


def test_the_unit_statement_totals_per_business_type(app, books):
    found = statements.unit_statement(uow_of(app), books.teller, books.unit["id"])
    assert found.total == 8 and {line.name for line in found.lines} == {"林小明"}
    by_type = {t.business_type: t for t in found.by_type}
    assert by_type["01"].lines == 6 and by_type["01"].amount == 3 * (A_MONTH + B_MONTH)
    assert by_type["01"].unit_part == Decimal("3960.00") and by_type["01"].person_part == Decimal("3300.00")
    assert by_type["09"].lines == 2 and by_type["09"].amount == books.settled.total
    assert found.amount == 3 * (A_MONTH + B_MONTH) + books.settled.total

    months = statements.unit_statement(uow_of(app), books.teller, books.unit["id"], month_from="202605",
                                       month_to="202606", per_page=3)
    assert months.total == 4 and len(months.lines) == 3
    assert [t.business_type for t in months.by_type] == ["01"]  # interest lines have no 所属年月
    with pytest.raises(ValidationFailed):
        statements.unit_statement(uow_of(app), books.teller, books.unit["id"], month_from="202613")


def test_the_excel_export_reads_back_and_is_audited(app, books):
    data = statements.export_account_xlsx(uow_of(app), books.teller, WHO, NOW, books.a["id"],
                                          date_from=date(2026, 5, 1))
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "个人明细对账单"
    facts = {r[0]: r[1] for r in rows if r and r[0] and len([c for c in r if c is not None]) == 2}
    assert facts["个人账号"] == books.a["account_no"] and "*" in facts["证件号码"]
    assert facts["期初余额"] == float(A_MONTH)
    head = next(i for i, r in enumerate(rows) if r[0] == "日期")
    lines = rows[head + 1:-1]
    assert len(lines) == 3 and rows[-1][0] == "合计"
    assert lines[0][0].date() == date(2026, 5, 15) and lines[0][3] == float(A_MONTH)
    assert lines[-1][5] == float(Decimal(books.a["balance"]) + 3 * A_MONTH + books_interest(app, books))
    money = sheet.cell(row=head + 2, column=6)
    assert money.number_format == "#,##0.00"
    assert sheet.column_dimensions["A"].width == 12

    unit_book = statements.export_unit_xlsx(uow_of(app), books.teller, WHO, NOW, books.unit["id"],
                                            business_type="01")
    unit_rows = list(openpyxl.load_workbook(io.BytesIO(unit_book)).active.iter_rows(values_only=True))
    head = next(i for i, r in enumerate(unit_rows) if r[0] == "日期")
    assert len(unit_rows) - head - 2 == 6 and unit_rows[-1][7] == float(3 * (A_MONTH + B_MONTH))
    assert count(app, "SELECT COUNT(*) FROM audit_event WHERE action = 'statement.export'") == 2


def books_interest(app, books) -> Decimal:
    found = statements.account_statement(uow_of(app), books.teller, books.a["id"], business_type="09")
    return found.lines[0].amount


def test_an_export_over_the_cap_is_refused(app, books, monkeypatch):
    monkeypatch.setattr(statements, "EXPORT_LIMIT", 3)
    with pytest.raises(ValidationFailed) as refused:
        statements.export_unit_xlsx(uow_of(app), books.teller, WHO, NOW, books.unit["id"])
    assert refused.value.code == "export_too_large"
    assert count(app, "SELECT COUNT(*) FROM audit_event WHERE action = 'statement.export'") == 0


def test_other_branches_and_roles_are_refused(app, books):
    other = principal(app, "teller02")  # 东城管理部: the unit is 市直's
    with pytest.raises(Forbidden):
        statements.account_statement(uow_of(app), other, books.a["id"])
    with pytest.raises(Forbidden):
        statements.unit_statement(uow_of(app), other, books.unit["id"])
    with pytest.raises(Forbidden):
        statements.export_account_xlsx(uow_of(app), principal(app, "sysadmin"), WHO, NOW, books.a["id"])
    centre = statements.account_statement(uow_of(app), principal(app, "accountant01"), books.a["id"])
    assert centre.total == 4  # centre-wide accounting staff see every branch


def test_the_api_answers_json_and_excel(app, books):
    api = books.api
    body = api.get(f"/api/v1/accounts/{books.a['id']}/statement", query_string={"per_page": 3}).get_json()
    assert body["total"] == 4 and body["lines"][2]["balance"] == str(3 * A_MONTH)
    assert body["header"]["account_no"] == books.a["account_no"] and body["opening"] == "0.00"
    xlsx = api.get(f"/api/v1/accounts/{books.a['id']}/statement.xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    assert openpyxl.load_workbook(io.BytesIO(xlsx.data)).active["A1"].value == "个人明细对账单"
    unit = api.get(f"/api/v1/units/{books.unit['id']}/statement", query_string={"business_type": "09"})
    assert unit.status_code == 200 and unit.get_json()["total"] == 2
    assert api.get(f"/api/v1/units/{books.unit['id']}/statement.xlsx").status_code == 200
    bad = api.get(f"/api/v1/units/{books.unit['id']}/statement", query_string={"month_from": "2026-13"})
    assert bad.status_code == 422
    other = client_as(app, "teller02")
    assert other.get(f"/api/v1/accounts/{books.a['id']}/statement").status_code == 403
    assert other.get(f"/api/v1/units/{books.unit['id']}/statement.xlsx").status_code == 403
    assert client_as(app, "sysadmin").get(f"/api/v1/units/{books.unit['id']}/statement").status_code == 403
