"""总账 on every database: balanced postings only, closed days refused, one reversal per
voucher, the trial balance, and `check` naming what was changed behind the books' back."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from hpf.cli import cli
from hpf.domain import ledger as rules
from hpf.domain.access import DataScope
from hpf.domain.errors import Conflict, Forbidden, ValidationFailed
from hpf.repositories.models import IndividualAccount, Person
from hpf.repositories.uow import UnitOfWork
from hpf.services import ledger
from hpf.services.access import Principal
from hpf.services.audit import Who
from hpf.services.crypto import verify_integrity
from tests.integration.test_access_api import client_as

pytestmark = pytest.mark.db
NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
TODAY = date(2026, 11, 22)
WHO = Who("test")
BY = "ledger_test"
ACCOUNT_NO = "LT00000001"
ACCOUNTANT = Principal(id=0, username=BY, display_name="会计", org_id=0, org_code="", org_name="",
                       permissions=frozenset({"ledger:view", "ledger:post", "ledger:close"}),
                       scope=DataScope(0, None))
CLERK = Principal(id=0, username="clerk", display_name="柜员", org_id=0, org_code="", org_name="")


def _cleanup(database) -> None:
    """Vouchers are append-only in the product; a test removes its own rows in SQL."""
    with database.engine.begin() as conn:
        mine = "SELECT id FROM ledger_voucher WHERE created_by = 'ledger_test'"
        conn.execute(sa.text(f"DELETE FROM account_detail WHERE voucher_id IN ({mine})"))
        conn.execute(sa.text(f"DELETE FROM ledger_entry WHERE voucher_id IN ({mine})"))
        conn.execute(sa.text(f"DELETE FROM ledger_voucher WHERE reversal_of_id IN ({mine})"))
        conn.execute(sa.text("DELETE FROM ledger_voucher WHERE created_by = 'ledger_test'"))
        conn.execute(sa.text("DELETE FROM ledger_day WHERE closed_by = 'ledger_test'"))
        people = [r[0] for r in conn.execute(sa.text(
            "SELECT person_id FROM individual_account WHERE account_no = :no"), {"no": ACCOUNT_NO})]
        conn.execute(sa.text("DELETE FROM individual_account WHERE account_no = :no"), {"no": ACCOUNT_NO})
        for person_id in people:
            conn.execute(sa.text("DELETE FROM person WHERE id = :p"), {"p": person_id})


@pytest.fixture
def books(database):
    _cleanup(database)
    yield database
    _cleanup(database)


def _account(database, balance: Decimal) -> int:
    uow = UnitOfWork(database)
    with uow:
        person = uow.accounts.add_person(Person(name="记账测试", id_type="01", id_number="11010119900307001X",
                                                created_at=NOW))
        account = uow.accounts.add(IndividualAccount(account_no=ACCOUNT_NO, person_id=person.id, status="01",
                                                     balance=balance, opened_on=TODAY, created_at=NOW))
        uow.commit()
    return account.id


def _post(database, draft: rules.VoucherDraft, *, detail: bool = False) -> ledger.VoucherView:
    """Post ``draft``; with ``detail``, also its account detail lines, as a business would."""
    uow = UnitOfWork(database)
    with uow:
        posted = ledger.post(uow, draft, created_by=BY)
        if detail:
            uow.collection.insert_detail([
                {"account_id": line.account_id, "unit_id": None, "value_date": draft.business_date,
                 "business_type": draft.business_type, "amount": line.credit - line.debit, "unit_part": None,
                 "person_part": None, "month": None, "voucher_id": posted.id, "source_id": None,
                 "reversal_flag": "0"} for line in draft.lines if line.account_id is not None])
        uow.commit()
    return posted


def _count(database, sql: str) -> int:
    with database.engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar_one()


MINE = "SELECT COUNT(*) FROM ledger_voucher WHERE created_by = 'ledger_test'"


def test_a_balanced_voucher_is_posted_with_a_number_and_its_lines(books):
    account_id = _account(books, Decimal("0.00"))
    posted = _post(books, rules.transfer_in(TODAY, "外部转入", account_id, Decimal("1200.50")))
    assert posted.voucher_no.startswith("JZ20261122") and len(posted.voucher_no) == 18
    got = ledger.get_voucher(UnitOfWork(books), ACCOUNTANT, posted.id)
    assert [(e.subject, e.debit, e.credit, e.account_id) for e in got.lines] == [
        ("101", Decimal("1200.50"), Decimal("0.00"), None),
        ("201", Decimal("0.00"), Decimal("1200.50"), account_id)]
    second = _post(books, rules.transfer_in(TODAY, "外部转入", account_id, Decimal("1.00")))
    assert second.voucher_no != posted.voucher_no
    page = ledger.list_vouchers(UnitOfWork(books), ACCOUNTANT, date_from=TODAY, date_to=TODAY, subject="201")
    assert {v.id for v in page.items} >= {posted.id, second.id}


def test_an_unbalanced_voucher_is_refused_and_nothing_is_written(books):
    draft = rules.VoucherDraft(TODAY, "01", "借贷不平", (rules.Line("101", debit=Decimal("10.00")),
                                                          rules.Line("201", credit=Decimal("9.99"))))
    with pytest.raises(rules.UnbalancedVoucher):
        _post(books, draft)
    assert _count(books, MINE) == 0


def test_many_vouchers_post_their_lines_set_based_and_stay_sealed(books):
    shares = [rules.Share(None, Decimal("0.01") * (n + 1)) for n in range(500)]
    drafts = [rules.remittance(TODAY, f"汇缴 {i}", shares) for i in range(2)]
    uow = UnitOfWork(books)
    with uow:
        posted = ledger.post_many(uow, drafts, created_by=BY)
        uow.commit()
    assert len({v.voucher_no for v in posted}) == 2 and all(len(v.lines) == 501 for v in posted)
    assert verify_integrity(books, ["ledger_entry", "ledger_voucher"]).ok


def test_postings_into_a_closed_day_are_refused(books):
    day = TODAY - timedelta(days=2)
    closed = ledger.close_day(UnitOfWork(books), ACCOUNTANT, WHO, NOW, day)
    assert closed.business_date == day and closed.closed_by == BY
    with pytest.raises(rules.DayClosed):
        _post(books, rules.transfer_in(day, "补记", None, Decimal("5.00")))
    with pytest.raises(rules.DayClosed):
        _post(books, rules.transfer_in(day - timedelta(days=30), "补记", None, Decimal("5.00")))
    assert _count(books, MINE) == 0
    _post(books, rules.transfer_in(day + timedelta(days=1), "次日", None, Decimal("5.00")))
    with pytest.raises(Conflict):  # days close in order
        ledger.close_day(UnitOfWork(books), ACCOUNTANT, WHO, NOW, day)
    with pytest.raises(ValidationFailed):  # not a day still to come
        ledger.close_day(UnitOfWork(books), ACCOUNTANT, WHO, NOW, TODAY + timedelta(days=1))
    with pytest.raises(Forbidden):
        ledger.close_day(UnitOfWork(books), CLERK, WHO, NOW, TODAY)
    assert _count(books, "SELECT COUNT(*) FROM audit_event WHERE action = 'ledger.close_day' "
                         "AND actor = 'ledger_test'") >= 1


def test_a_reversal_nets_to_zero_and_cannot_be_repeated(books):
    account_id = _account(books, Decimal("300.00"))
    original = _post(books, rules.transfer_in(TODAY - timedelta(days=5), "外部转入", account_id,
                                              Decimal("300.00")))
    reversal = ledger.reverse(UnitOfWork(books), ACCOUNTANT, WHO, NOW, original.id, "重复入账")
    assert reversal.business_date == TODAY and reversal.reversal_of_id == original.id
    assert reversal.summary.startswith(f"冲销 {original.voucher_no}")
    assert [(e.subject, e.debit, e.credit) for e in reversal.lines] == [
        ("101", Decimal("0.00"), Decimal("300.00")), ("201", Decimal("300.00"), Decimal("0.00"))]
    rows = {r.code: r for r in ledger.trial_balance(UnitOfWork(books), ACCOUNTANT, TODAY).rows}
    assert rows["201"].balance == rows["101"].balance == Decimal("0.00")
    for target, code in ((original.id, "voucher_reversed"), (reversal.id, "voucher_is_reversal")):
        with pytest.raises(Conflict) as caught:
            ledger.reverse(UnitOfWork(books), ACCOUNTANT, WHO, NOW, target, "再冲")
        assert caught.value.code == code
    assert ledger.get_voucher(UnitOfWork(books), ACCOUNTANT, original.id).reversed_by_id == reversal.id


def test_a_business_voucher_is_corrected_through_its_business_not_reversed_here(books):
    account_id = _account(books, Decimal("300.00"))
    posted = _post(books, rules.transfer_in(TODAY, "外部转入", account_id, Decimal("300.00")), detail=True)
    with pytest.raises(Conflict) as caught:
        ledger.reverse(UnitOfWork(books), ACCOUNTANT, WHO, NOW, posted.id, "冲错")
    assert caught.value.code == "voucher_has_business"
    assert _count(books, MINE) == 1


def test_trial_balance_totals_by_date(books):
    _post(books, rules.transfer_in(TODAY - timedelta(days=1), "转入", None, Decimal("100.00")))
    _post(books, rules.annual_interest(TODAY, "结息", [rules.Share(None, Decimal("1.50"))]))
    before = ledger.trial_balance(UnitOfWork(books), ACCOUNTANT, TODAY - timedelta(days=1))
    rows = {r.code: r for r in before.rows}
    assert rows["201"].balance == Decimal("100.00") and "41101" not in rows and before.balanced
    after = ledger.trial_balance(UnitOfWork(books), ACCOUNTANT, TODAY)
    rows = {r.code: r for r in after.rows}
    assert rows["201"].balance == Decimal("101.50") and rows["411"].balance == Decimal("1.50")
    assert after.balanced and after.debit_total == after.credit_total == Decimal("101.50")
    with pytest.raises(Forbidden):
        ledger.trial_balance(UnitOfWork(books), CLERK, TODAY)


def test_check_is_clean_then_names_an_amount_or_balance_changed_in_sql(books):
    account_id = _account(books, Decimal("800.00"))
    posted = _post(books, rules.transfer_in(TODAY, "外部转入", account_id, Decimal("800.00")), detail=True)
    assert ledger.check(books) == []
    with books.engine.begin() as conn:
        conn.execute(sa.text("UPDATE ledger_entry SET credit = 700 WHERE voucher_id = :v AND line_no = 2"),
                     {"v": posted.id})
    findings = {f.kind: f for f in ledger.check(books)}
    assert [t.voucher_no for t in findings["voucher_unbalanced"].items] == [posted.voucher_no]
    assert "control_account" in findings and "trial_balance" in findings
    with books.engine.begin() as conn:
        conn.execute(sa.text("UPDATE ledger_entry SET credit = 800 WHERE voucher_id = :v AND line_no = 2"),
                     {"v": posted.id})
        conn.execute(sa.text("UPDATE individual_account SET balance = 799.99 WHERE id = :a"),
                     {"a": account_id})
    findings = ledger.check(books)
    assert [f.kind for f in findings] == ["control_account", "account_detail"]
    assert findings[0].items == (Decimal("800.00"), Decimal("799.99"))
    assert findings[1].items == ((ACCOUNT_NO, Decimal("799.99"), Decimal("800.00")),)


# ----- the command line ------------------------------------------------------------------

@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("HPF_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("HPF_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("HPF_LOG_FORMAT", "text")
    monkeypatch.delenv("HPF_CONFIG", raising=False)
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"], catch_exceptions=False).exit_code == 0
    return lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)


def test_hpf_ledger_check_exits_1_naming_an_unbalanced_voucher(run, tmp_path):
    result = run("ledger", "check")
    assert result.exit_code == 0 and "结论: 账务核对无误" in result.output
    with sqlite3.connect(tmp_path / "cli.sqlite3") as conn:  # planted behind the application's back
        conn.execute("INSERT INTO ledger_voucher (id, voucher_no, business_date, business_type, summary, "
                     "created_by, created_at) VALUES (1, 'JZ2026112200000099', '2026-11-22', '01', '篡改', "
                     "'x', '2026-11-22 00:00:00')")
        conn.execute("INSERT INTO ledger_entry (voucher_id, line_no, subject_code, debit, credit) "
                     "VALUES (1, 1, '101', 100, 0), (1, 2, '201', 0, 90)")
    result = run("ledger", "check")
    assert result.exit_code == 1
    assert "JZ2026112200000099" in result.output and "结论: 发现 3 处问题" in result.output
    assert run("ledger", "trial-balance", "--date", "2026-11-22").exit_code == 1


def test_hpf_ledger_close_day_in_order(run):
    result = run("ledger", "close-day", "2020-01-02")
    assert result.exit_code == 0 and "已日结 2020-01-02" in result.output
    result = run("ledger", "close-day", "2020-01-01")
    assert result.exit_code == 1 and "已日结" in result.output
    result = run("ledger", "trial-balance")
    assert result.exit_code == 0 and "结论: 试算平衡" in result.output


# ----- the JSON API ----------------------------------------------------------------------

def test_the_ledger_api_for_the_accountant_and_not_the_teller(app):
    database = app.extensions["hpf"].database
    today = app.extensions["hpf"].clock.today()
    posted = _post(database, rules.transfer_in(today, "外部转入", None, Decimal("66.00")))
    accountant = client_as(app, "accountant01")
    page = accountant.get("/api/v1/ledger/vouchers", query_string={"subject": "201"}).get_json()
    assert page["total"] == 1 and page["items"][0]["voucher_no"] == posted.voucher_no
    one = accountant.get(f"/api/v1/ledger/vouchers/{posted.id}").get_json()
    assert [line["credit"] for line in one["lines"]] == ["0.00", "66.00"]
    response = accountant.post(f"/api/v1/ledger/vouchers/{posted.id}/reversal", json={"reason": "错账"})
    assert response.status_code == 201 and response.get_json()["reversal_of_id"] == posted.id
    again = accountant.post(f"/api/v1/ledger/vouchers/{posted.id}/reversal", json={"reason": "错账"})
    assert again.status_code == 409 and again.get_json()["code"] == "voucher_reversed"
    trial = accountant.get("/api/v1/ledger/trial-balance", query_string={"date": today.isoformat()})
    assert trial.status_code == 200 and trial.get_json()["balanced"] is True
    closed = accountant.post(f"/api/v1/ledger/days/{today.isoformat()}/close")
    assert closed.status_code == 201 and closed.get_json()["closed_by"] == "accountant01"
    assert accountant.post(f"/api/v1/ledger/days/{today.isoformat()}/close").status_code == 409
    assert accountant.post("/api/v1/ledger/days/not-a-day/close").status_code == 422
    teller = client_as(app, "teller01")
    assert teller.get("/api/v1/ledger/vouchers").status_code == 403
    refused = teller.post(f"/api/v1/ledger/vouchers/{posted.id}/reversal", json={"reason": "x"})
    assert refused.status_code == 403
