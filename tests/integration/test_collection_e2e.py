"""Collection end to end through the JSON API, on every database, in a database of its own
(the ledger check is about the whole books, so no other test may share them):

remittance listed from the roster (shares rounded separately) → paid at the simulated bank
(wrong amount, delayed credit) → matched → posted; an imported list with bad rows posts
nothing and reports every row; 错缴更正 by reversal after review; a person transferred to a
new employer; a whole simulated year of remittances; the annual interest settlement (re-run
posts nothing); `hpf ledger check` clean after the year and failing on a planted imbalance.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from hpf.cli import cli
from hpf.config import load_settings
from hpf.domain import interest as interest_rules
from hpf.domain.contribution import YearMonth
from hpf.repositories.database import open_app_database
from hpf.repositories.uow import UnitOfWork
from hpf.services import ledger
from hpf.services.clock import FixedClock
from hpf.services.crypto import upgrade_database
from hpf.services.demo import load_demo_centre
from tests.conftest import TEST_KEK, UNREACHABLE, create_if_missing, login, reset_schema
from tests.integration.test_accounts_api import new_person
from tests.integration.test_units_api import credit_code

pytestmark = pytest.mark.db


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture(scope="module")
def centre(database, db_url, tmp_path_factory):
    """A database of its own, next to the session's one, with the demo centre and an app."""
    from hpf.app import create_app

    if database.engine.dialect.name == "sqlite":
        own = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'collection.sqlite3'}"
    else:
        url = sa.engine.make_url(db_url)
        own = url.set(database=f"{url.database}_e2e").render_as_string(hide_password=False)
    instance = tmp_path_factory.mktemp("e2e-instance")
    settings = load_settings(
        environ={}, overrides={"instance_path": str(instance), "log.format": "text", "crypto.kek": TEST_KEK}
    )
    db = open_app_database(settings, own)
    try:
        create_if_missing(db)
        db.check_connection()
    except Exception as exc:
        pytest.skip(f"{UNREACHABLE}: {db.display_url}: {exc}")
    reset_schema(db)
    upgrade_database(db)
    clock = FixedClock(at(date(2025, 6, 5)))
    app = create_app(settings, database=db, clock=clock)
    app.config["TESTING"] = True
    load_demo_centre(UnitOfWork(db))
    yield app, clock, own
    db.dispose()


def client(app, username):
    c = app.test_client()
    login(c, username)
    return c


def sql(app, text, **params):
    with app.extensions["hpf"].database.engine.begin() as conn:
        result = conn.execute(sa.text(text), params)
        return result.scalar() if result.returns_rows else None


def org_id(app) -> int:
    return sql(app, "SELECT id FROM org_unit WHERE code = '001'")


def open_unit(teller, app, serial):
    body = {
        "credit_code": credit_code(serial),
        "name": f"示范制造有限公司{serial}",
        "org_id": org_id(app),
        "unit_ratio": "0.12",
        "person_ratio": "0.10",
        "deposit_day": 5,
        "bank_name": "建设银行示范支行",
        "bank_account": f"62270012345678{serial:04d}",
        "contact_name": "王五",
        "contact_phone": "13812345678",
    }
    response = teller.post("/api/v1/units", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def open_account(teller, unit_id, serial, base):
    response = teller.post("/api/v1/accounts", json=new_person(unit_id, serial, deposit_base=base))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def pay_and_post(app, clock, teller, remittance, *, delay=0):
    """The unit pays at the simulated bank; the credit is fetched, matched and posted."""
    paid = teller.post(
        "/api/v1/remittances/bank-simulator/payments",
        json={"remittance_id": remittance["id"], "delay_days": delay},
    )
    assert paid.status_code == 201, paid.get_json()
    fetched = teller.post("/api/v1/remittances/credits/fetch")
    assert fetched.status_code == 200, fetched.get_json()
    posted = teller.post("/api/v1/remittances/post", json={"remittance_ids": [remittance["id"]]})
    assert posted.status_code == 200, posted.get_json()
    return posted.get_json()


def balance(teller, account_id) -> Decimal:
    return Decimal(teller.get(f"/api/v1/accounts/{account_id}").get_json()["balance"])


def test_a_year_of_collection_through_the_api(centre):
    app, clock, url = centre
    teller = client(app, "teller01")
    unit = open_unit(teller, app, 501)
    other = open_unit(teller, app, 502)
    people = [
        open_account(teller, unit["id"], 501, "6000.00"),
        open_account(teller, unit["id"], 502, "5000.55"),
        open_account(teller, unit["id"], 503, "2030.00"),
    ]

    # --- listing from the roster: the shares are rounded separately (half-up to the fen)
    listed = teller.post("/api/v1/remittances", json={"unit_id": unit["id"], "month": "202506"})
    assert listed.status_code == 201, listed.get_json()
    june = listed.get_json()
    assert (june["people"], june["unit_total"], june["person_total"]) == (3, "1563.67", "1303.06")
    lines = {
        r["account_no"]: r for r in teller.get(f"/api/v1/remittances/{june['id']}/lines").get_json()["items"]
    }
    second = lines[people[1]["account_no"]]
    assert (second["unit_amount"], second["person_amount"], second["amount"]) == (
        "600.07",
        "500.06",
        "1100.13",
    )
    assert june["total"] == "2866.73" and june["status"] == "01"
    assert (
        june["payment_reference"].endswith(june["remittance_no"])
        or june["remittance_no"] in june["payment_reference"]
    )

    # --- bad input: the same month again, a future month, a month skipped; nothing written
    again = teller.post("/api/v1/remittances", json={"unit_id": unit["id"], "month": "202506"})
    assert again.status_code == 409 and again.get_json()["code"] == "remittance_exists"
    future = teller.post("/api/v1/remittances", json={"unit_id": unit["id"], "month": "202507"})
    assert future.status_code == 422 and "month" in future.get_json()["details"]
    assert sql(app, "SELECT COUNT(*) FROM remittance") == 1

    # --- the bank: a wrong amount is not matched, and cannot be matched by hand
    wrong = teller.post(
        "/api/v1/remittances/bank-simulator/payments",
        json={"remittance_id": june["id"], "amount_error": "-0.01"},
    )
    assert wrong.status_code == 201
    fetched = teller.post("/api/v1/remittances/credits/fetch").get_json()
    assert (fetched["received"], fetched["matched"], fetched["wrong_amount"]) == (1, 0, 1)
    credits = teller.get("/api/v1/remittances/credits").get_json()
    assert credits[0]["status"] == "2" and "不符" in credits[0]["note"]
    by_hand = teller.post(f"/api/v1/remittances/{june['id']}/match", json={"credit_id": credits[0]["id"]})
    assert by_hand.status_code == 422 and "amount" in by_hand.get_json()["details"]
    early = teller.post("/api/v1/remittances/post", json={"remittance_ids": [june["id"]]})
    assert early.status_code == 409 and early.get_json()["code"] == "remittance_not_postable"
    # a delayed credit is invisible until its day
    teller.post(
        "/api/v1/remittances/bank-simulator/payments", json={"remittance_id": june["id"], "delay_days": 2}
    )
    assert teller.post("/api/v1/remittances/credits/fetch").get_json()["matched"] == 0
    clock.at = at(date(2025, 6, 7))
    teller = client(app, "teller01")  # sessions idle out when the clock jumps
    late = teller.post("/api/v1/remittances/credits/fetch")
    assert late.status_code == 200 and late.get_json()["matched"] == 1, late.get_json()
    assert teller.get(f"/api/v1/remittances/{june['id']}").get_json()["status"] == "02"

    posted = teller.post("/api/v1/remittances/post", json={"remittance_ids": [june["id"]]})
    assert posted.status_code == 200, posted.get_json()
    assert posted.get_json()["lines"] == 3 and posted.get_json()["total"] == "2866.73"
    twice = teller.post("/api/v1/remittances/post", json={"remittance_ids": [june["id"]]})
    assert twice.status_code == 409
    assert balance(teller, people[1]["id"]) == Decimal("1100.13")
    after = teller.get(f"/api/v1/units/{unit['id']}").get_json()
    assert (after["paid_up_to"], after["status"]) == ("202506", "01")

    # --- an imported list with bad rows posts nothing and reports every row
    clock.at = at(date(2025, 7, 5))
    teller = client(app, "teller01")  # sessions idle out when the clock jumps
    header = "个人账号,姓名,缴存基数,单位月缴存额,个人月缴存额\n"
    bad = header + (
        f"{people[0]['account_no']},林小明,6000.00,720.00,600.00\n"
        f"{people[1]['account_no']},林小明,5000.55,600.06,500.06\n"
        "999999999,无此人,3000.00,360.00,300.00\n"
    )
    form = {"unit_id": str(unit["id"]), "month": "202507"}
    rejected = teller.post(
        "/api/v1/remittances/import",
        data={**form, "file": (io.BytesIO(bad.encode()), "list.csv")},
        content_type="multipart/form-data",
    )
    assert rejected.status_code == 422 and rejected.get_json()["code"] == "remittance_list_rejected"
    assert len(rejected.get_json()["details"]["rows"]) >= 2
    assert sql(app, "SELECT COUNT(*) FROM remittance") == 1
    report = teller.post(
        "/api/v1/remittances/import/errors.xlsx",
        data={**form, "file": (io.BytesIO(bad.encode()), "list.csv")},
        content_type="multipart/form-data",
    )
    assert report.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(report.data)).active
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert any(3 in r or "3" in r for r in rows[1:]) and any(4 in r or "4" in r for r in rows[1:])
    good = header + "".join(
        f"{p['account_no']},林小明,{b},{u},{v}\n"
        for p, b, u, v in (
            (people[0], "6000.00", "720.00", "600.00"),
            (people[1], "5000.55", "600.07", "500.06"),
            (people[2], "2030.00", "243.60", "203.00"),
        )
    )
    imported = teller.post(
        "/api/v1/remittances/import",
        data={**form, "file": (io.BytesIO(good.encode("utf-8-sig")), "list.csv")},
        content_type="multipart/form-data",
    )
    assert imported.status_code == 201, imported.get_json()
    july = imported.get_json()
    assert july["source"] == "import" and july["total"] == "2866.73"
    pay_and_post(app, clock, teller, july)
    assert balance(teller, people[2]["id"]) == Decimal("893.20")

    # --- 错缴更正: requested by the teller, applied when the reviewer approves
    reversal = teller.post(f"/api/v1/remittances/{july['id']}/reversal", json={"reason": "基数报错"})
    assert reversal.status_code == 202 and reversal.get_json()["status"] == "pending"
    assert balance(teller, people[2]["id"]) == Decimal("893.20")  # nothing until approved
    reviewer = client(app, "reviewer01")
    approval = reversal.get_json()["approval"]["id"]
    decided = reviewer.post(f"/api/v1/approvals/{approval}/approve", json={"note": "同意"})
    assert decided.status_code == 200, decided.get_json()
    assert balance(teller, people[2]["id"]) == Decimal("446.60")
    assert teller.get(f"/api/v1/remittances/{july['id']}").get_json()["status"] == "04"
    assert teller.get(f"/api/v1/units/{unit['id']}").get_json()["paid_up_to"] == "202506"
    relisted = teller.post("/api/v1/remittances", json={"unit_id": unit["id"], "month": "202507"})
    assert relisted.status_code == 201, relisted.get_json()
    pay_and_post(app, clock, teller, relisted.get_json())

    # --- 补缴 (months covered + reason): not before the unit opened, never without a reason
    early_back = {"unit_id": unit["id"], "month": "202505", "kind": "02", "month_to": "202505",
                  "reason": "漏缴"}
    refused = teller.post("/api/v1/remittances", json=early_back)
    assert refused.status_code == 422 and "month" in refused.get_json()["details"]
    no_reason = {**early_back, "month": "202506", "month_to": "202506", "reason": None}
    refused = teller.post("/api/v1/remittances", json=no_reason)
    assert refused.status_code == 422 and "reason" in refused.get_json()["details"]
    back = teller.post("/api/v1/remittances", json={**no_reason, "reason": "6月漏报一人次补缴"})
    assert back.status_code == 201, back.get_json()
    assert back.get_json()["kind"] == "02" and back.get_json()["total"] == "2866.73"
    pay_and_post(app, clock, teller, back.get_json())
    assert balance(teller, people[2]["id"]) == Decimal("1339.80")
    assert teller.get(f"/api/v1/units/{unit['id']}").get_json()["paid_up_to"] == "202507"  # unchanged

    # --- a whole year: August 2025 to June 2026, the third person moving employer in March
    month = YearMonth(2025, 8)
    while month <= YearMonth(2026, 6):
        clock.at = at(date(month.year, month.month, 5))
        teller = client(app, "teller01")  # sessions idle out when the clock jumps
        if month == YearMonth(2026, 3):
            assert teller.post(f"/api/v1/accounts/{people[2]['id']}/seal").status_code == 200
            moved = teller.post(
                f"/api/v1/accounts/{people[2]['id']}/unseal",
                json={"unit_id": other["id"], "deposit_base": "2030.00"},
            )
            assert moved.status_code == 200, moved.get_json()
            assert balance(teller, people[2]["id"]) == Decimal("4466.00")  # the balance moved with it
        for payer in (unit, other):
            if payer is other and month < YearMonth(2026, 3):
                continue
            listed = teller.post("/api/v1/remittances", json={"unit_id": payer["id"], "month": str(month)})
            assert listed.status_code == 201, (str(month), listed.get_json())
            pay_and_post(app, clock, teller, listed.get_json())
        month = month.next()
    assert teller.get(f"/api/v1/units/{unit['id']}").get_json()["paid_up_to"] == "202606"

    # --- the annual settlement: 2025-07-01..2026-06-30, re-runnable
    clock.at = at(date(2026, 6, 20))
    accountant = client(app, "accountant01")
    early = accountant.post("/api/v1/interest/settlements", json={"interest_year": 2026})
    assert early.status_code == 422
    clock.at = at(date(2026, 7, 1))
    teller = client(app, "teller01")  # sessions idle out when the clock jumps
    accountant = client(app, "accountant01")
    before = {p["id"]: balance(teller, p["id"]) for p in people}
    settled = accountant.post("/api/v1/interest/settlements", json={"interest_year": 2026})
    assert settled.status_code == 200, settled.get_json()
    result = settled.get_json()
    assert result["accounts"] == 3 and not result["already_settled"] and result["voucher_no"]
    # each account's interest equals the domain's day-by-day walk over its detail
    database = app.extensions["hpf"].database
    start, end = interest_rules.interest_year(2026)
    expected_total = Decimal("0.00")
    for person in people:
        with database.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT value_date, amount, business_type FROM account_detail "
                    "WHERE account_id = :a ORDER BY id"
                ),
                {"a": person["id"]},
            ).all()
        moves = [(_day(r[0]), Decimal(r[1]).quantize(Decimal("0.01"))) for r in rows if r[2] != "09"]
        opening = sum((m for d, m in moves if d < start), Decimal("0.00"))
        year = [(d, m) for d, m in moves if start <= d <= end]
        expected = interest_rules.settle(opening, year, [(date(2016, 2, 21), Decimal("0.015"))], start, end)
        got = balance(teller, person["id"]) - before[person["id"]]
        assert got == expected.interest, (person["account_no"], got, expected)
        expected_total += expected.interest
    assert Decimal(result["total"]) == expected_total > 0
    lines_before = sql(app, "SELECT COUNT(*) FROM account_detail")
    rerun = accountant.post("/api/v1/interest/settlements", json={"interest_year": 2026}).get_json()
    assert rerun["already_settled"] and rerun["total"] == result["total"]
    assert sql(app, "SELECT COUNT(*) FROM account_detail") == lines_before
    # the part-year interest of an account closing later (算头不算尾)
    accrued = teller.get(f"/api/v1/interest/accounts/{people[0]['id']}", query_string={"to": "2026-07-11"})
    assert accrued.status_code == 200, accrued.get_json()
    expected = balance(teller, people[0]["id"]) * 10 * Decimal("0.015") / 360
    assert Decimal(accrued.get_json()["interest"]) == expected.quantize(Decimal("0.01"))

    # --- the books after the year: clean; a planted imbalance is found and named
    assert ledger.check(database) == []
    runner = CliRunner()
    env = {
        "HPF_DATABASE_URL": url,
        "HPF_CRYPTO_KEK": TEST_KEK,
        "HPF_INSTANCE_PATH": app.instance_path,
        "HPF_LOG_FORMAT": "text",
    }
    clean = runner.invoke(cli, ["ledger", "check"], env=env, catch_exceptions=False)
    assert clean.exit_code == 0, clean.output
    assert "账务核对无误" in clean.output
    sql(app, "UPDATE individual_account SET balance = balance + 1 WHERE id = :a", a=people[0]["id"])
    planted = runner.invoke(cli, ["ledger", "check"], env=env, catch_exceptions=False)
    assert planted.exit_code == 1
    assert people[0]["account_no"] in planted.output and "个人明细不符" in planted.output
    sql(app, "UPDATE individual_account SET balance = balance - 1 WHERE id = :a", a=people[0]["id"])
    assert ledger.check(database) == []


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def test_two_postings_of_the_same_remittance_at_once_one_wins(centre):
    """Row locks order the two transactions: exactly one posts, the other gets a conflict."""
    import threading

    from hpf.domain.errors import Conflict
    from hpf.services import auth, remittance
    from hpf.services.audit import Who

    app, clock, _ = centre
    database = app.extensions["hpf"].database
    if database.engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one writer: the second transaction waits, then sees the first's result")
    clock.at = at(date(2026, 7, 3))
    teller = client(app, "teller01")  # sessions idle out when the clock jumps
    unit = open_unit(teller, app, 503)
    open_account(teller, unit["id"], 504, "8000.00")
    listed = teller.post("/api/v1/remittances", json={"unit_id": unit["id"], "month": "202607"}).get_json()
    teller.post("/api/v1/remittances/bank-simulator/payments", json={"remittance_id": listed["id"]})
    teller.post("/api/v1/remittances/credits/fetch")
    user_id = sql(app, "SELECT id FROM app_user WHERE username = 'teller01'")
    actor = auth.current_user(UnitOfWork(database), user_id, clock.now())
    outcomes, barrier = [], threading.Barrier(2)

    def attempt():
        barrier.wait()
        try:
            remittance.post(UnitOfWork(database), actor, Who("race"), clock.now(), [listed["id"]])
            outcomes.append("posted")
        except Conflict as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["posted", "remittance_not_postable"]
    assert (
        sql(
            app,
            "SELECT COUNT(*) FROM account_detail d JOIN remittance r ON r.id = d.source_id "
            "WHERE r.id = :r AND d.business_type = '01'",
            r=listed["id"],
        )
        == 1
    )
    assert ledger.check(database) == []


def test_the_sql_accumulator_gives_the_worked_example_and_splits_a_rate_change(centre):
    """100,000.00 held all 365 days of 2025-07-01..2026-06-30 at 1.50% → 1,520.83, through
    the set-based query of this database (the exact Python walk on SQLite); with a rate
    change on 1 January the segments add up exactly as the domain's day-by-day walk."""
    app, _, _ = centre
    teller = client(app, "teller01")
    unit = open_unit(teller, app, 505)
    account_id = open_account(teller, unit["id"], 506, "3000.00")["id"]
    database = app.extensions["hpf"].database
    voucher_id = sql(app, "SELECT MIN(id) FROM ledger_voucher")
    start, end = date(2025, 7, 1), date(2026, 6, 30)
    moves = [
        (date(2025, 7, 1), Decimal("100000.00")),
        (date(2025, 10, 9), Decimal("-2345.67")),
        (date(2026, 6, 30), Decimal("1100.13")),
    ]
    changed = [(start, date(2025, 12, 31), Decimal("0.015")), (date(2026, 1, 1), end, Decimal("0.0175"))]
    uow = UnitOfWork(database)
    with uow:
        uow.collection.insert_detail(
            [
                {
                    "account_id": account_id,
                    "unit_id": unit["id"],
                    "value_date": day,
                    "business_type": "08",
                    "amount": amount,
                    "unit_part": None,
                    "person_part": None,
                    "month": None,
                    "voucher_id": voucher_id,
                    "source_id": None,
                    "reversal_flag": "0",
                }
                for day, amount in moves[:1]
            ]
        )
        whole = {
            a: i for a, _, i in uow.collection.interest_rows(start, [(start, end, Decimal("0.015"))], 360)
        }
        uow.collection.insert_detail(
            [
                {
                    "account_id": account_id,
                    "unit_id": unit["id"],
                    "value_date": day,
                    "business_type": "08",
                    "amount": amount,
                    "unit_part": None,
                    "person_part": None,
                    "month": None,
                    "voucher_id": voucher_id,
                    "source_id": None,
                    "reversal_flag": "0",
                }
                for day, amount in moves[1:]
            ]
        )
        split = {a: i for a, _, i in uow.collection.interest_rows(start, changed, 360)}
        uow.session.rollback()  # nothing of this stays
    assert whole[account_id] == Decimal("1520.83")
    table = [(date(2016, 2, 21), Decimal("0.015")), (date(2026, 1, 1), Decimal("0.0175"))]
    expected = interest_rules.settle(Decimal("0.00"), moves, table, start, end)
    assert split[account_id] == expected.interest
    assert sql(app, "SELECT COUNT(*) FROM account_detail WHERE account_id = :a", a=account_id) == 0


def test_the_annual_base_adjustment_from_a_list_or_the_band(centre):
    """基数调整 as one batch: a list with any bad row changes nothing and names every row;
    a good list changes the bases; the roster batch brings bases into the band."""
    app, _, _ = centre
    teller = client(app, "teller01")
    unit = open_unit(teller, app, 506)
    people = [open_account(teller, unit["id"], 507 + i, base) for i, base in
              enumerate(("6000.00", "5000.00", "3000.00"))]
    header = "个人账号,姓名,缴存基数\n"
    bad = header + (f"{people[0]['account_no']},林小明,6500.00\n"
                    f"{people[1]['account_no']},林小明,2029.99\n"  # below the floor
                    "888888888,某人,5000.00\n"  # not on this unit's roster
                    f"{people[0]['account_no']},林小明,6600.00\n")  # twice
    url = f"/api/v1/units/{unit['id']}/base-adjustments"
    refused = teller.post(url, data={"file": (io.BytesIO(bad.encode()), "bases.csv")},
                          content_type="multipart/form-data")
    assert refused.status_code == 422 and refused.get_json()["code"] == "remittance_list_rejected"
    rows = {(r["row"], r["column"]) for r in refused.get_json()["details"]["rows"]}
    assert rows == {(3, "缴存基数"), (4, "个人账号"), (5, "个人账号")}
    assert balance_base(teller, people[0]["id"]) == "6000.00"  # nothing changed
    good = header + f"{people[0]['account_no']},林小明,6500.00\n{people[1]['account_no']},林小明,5000.00\n"
    done = teller.post(url, data={"file": (io.BytesIO(good.encode("gb18030")), "bases.csv")},
                       content_type="multipart/form-data")
    assert done.status_code == 200, done.get_json()
    assert (done.get_json()["checked"], done.get_json()["changed"]) == (2, 1)
    assert balance_base(teller, people[0]["id"]) == "6500.00"
    # the band moved (simulated: a base left below the floor by an old rule)
    sql(app, "UPDATE individual_account SET deposit_base = 1500.00 WHERE id = :a", a=people[2]["id"])
    banded = teller.post(f"{url}/band")
    assert banded.status_code == 200 and banded.get_json()["changed"] == 1
    assert balance_base(teller, people[2]["id"]) == "2030.00"
    assert sql(app, "SELECT COUNT(*) FROM audit_event WHERE action = 'account.base_adjust'") >= 2
    other = client(app, "teller02")  # another branch: out of scope
    assert other.post(f"{url}/band").status_code == 403


def balance_base(teller, account_id) -> str:
    return teller.get(f"/api/v1/accounts/{account_id}").get_json()["deposit_base"]


def test_a_whole_month_is_listed_in_one_batch_and_a_second_run_lists_nothing(centre):
    app, clock, _ = centre
    clock.at = at(date(2026, 9, 3))
    teller = client(app, "teller01")
    unit = open_unit(teller, app, 510)
    open_account(teller, unit["id"], 520, "7000.00")
    open_account(teller, unit["id"], 521, "2030.00")
    first = teller.post("/api/v1/remittances/month", json={"month": "202609"})
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["listed"] >= 1
    mine = teller.get("/api/v1/remittances", query_string={"unit_id": unit["id"]}).get_json()["items"]
    assert [(r["month"], r["people"], r["total"]) for r in mine] == [("202609", 2, "1986.60")]
    again = teller.post("/api/v1/remittances/month", json={"month": "202609"})
    assert again.status_code == 201 and again.get_json()["listed"] == 0
    future = teller.post("/api/v1/remittances/month", json={"month": "202610"})
    assert future.status_code == 422 and "month" in future.get_json()["details"]


def test_money_checks_hold_where_numeric_is_floating_point(centre):
    """9187.65 + 13125.24 is not 22312.89 in binary floating point (SQLite's NUMERIC); the
    checks allow less than half a fen, so such a remittance is stored on every database."""
    app, _, _ = centre
    database = app.extensions["hpf"].database
    unit_id = sql(app, "SELECT MIN(id) FROM unit")
    uow = UnitOfWork(database)
    with uow:
        uow.collection.insert_headers([{
            "remittance_no": "HJ20990100000001", "unit_id": unit_id, "kind": "02", "month": "209901",
            "month_to": "209901", "reason": "测试", "source": "roster", "status": "05", "people": 9,
            "unit_total": Decimal("9187.65"), "person_total": Decimal("13125.24"),
            "total": Decimal("22312.89"),
            "live_key": None, "created_by": "test", "created_at": at(date(2026, 1, 1))}])
        assert uow.collection.by_number("HJ20990100000001").total == Decimal("22312.89")
        uow.session.rollback()
