"""Parameters through the service and the unit of work on each database."""

import threading
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from hpf.domain.errors import ValidationFailed
from hpf.repositories.models import ParamValue
from hpf.repositories.uow import UnitOfWork
from hpf.services import params

TODAY = date(2026, 11, 22)


@pytest.fixture
def clean_values(database):
    yield
    with database.engine.begin() as conn:
        conn.execute(sa.delete(ParamValue.__table__).where(
            ParamValue.__table__.c.effective_from >= TODAY))


def test_value_in_force_on_past_dates(database):
    uow = UnitOfWork(database)
    rate = "interest.rate.current_year"
    assert params.value_on_date(uow, rate, date(2016, 2, 20)) == Decimal("0.0035")
    assert params.value_on_date(uow, rate, date(2016, 2, 21)) == Decimal("0.015")


def test_add_future_value_keeps_history(database, clean_values):
    view = params.add_value(UnitOfWork(database), params.NewParamValue(
        "interest.rate.current_year", "0.0155", date(2027, 1, 1), "测试文号", "tester"), TODAY)
    assert view.current.value == "0.015"  # today: unchanged
    assert [p.effective_to for p in view.history][-2:] == [date(2026, 12, 31), None]
    on_new_year = params.get_param(UnitOfWork(database), "interest.rate.current_year",
                                   date(2027, 1, 1))
    assert on_new_year.current.value == "0.0155"


def test_rejected_value_writes_nothing(database, clean_values):
    def count():
        with database.engine.connect() as conn:
            return conn.scalar(sa.select(sa.func.count()).select_from(ParamValue.__table__))

    before = count()
    with pytest.raises(ValidationFailed):
        params.add_value(UnitOfWork(database), params.NewParamValue(
            "deposit.ratio.max", "1.5", TODAY, "", "tester"), TODAY)
    assert count() == before


def test_uow_rolls_back_without_commit(database):
    with UnitOfWork(database) as uow:
        uow.params.add_value("job.history_retention_days",
                             params.DatedValue("999", date(2099, 1, 1)), "tester")
    with UnitOfWork(database) as uow:
        assert all(v.effective_from != date(2099, 1, 1)
                   for v in uow.params.values("job.history_retention_days"))


def test_two_concurrent_edits_of_one_date_one_wins(database, clean_values):
    """The definition row lock serialises edits: the second sees the first and is refused."""
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def edit(value):
        barrier.wait(10)
        try:
            params.add_value(UnitOfWork(database), params.NewParamValue(
                "deposit.ratio.max", value, date(2027, 7, 1), "", "tester"), TODAY)
            outcomes.append("ok")
        except ValidationFailed as exc:
            outcomes.append(exc.details["effective_from"][0])
        except sa.exc.IntegrityError:
            outcomes.append("integrity")  # SQLite has no row locks; the unique key decides

    threads = [threading.Thread(target=edit, args=(v,)) for v in ("0.11", "0.10")]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert outcomes.count("ok") == 1, outcomes
