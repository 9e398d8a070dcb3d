from datetime import UTC, date, datetime

import pytest

from hpf.domain.calendar import business_date, start_of_business_day
from hpf.security.passwords import hash_password, needs_rehash, verify_password


def test_business_date_is_the_shanghai_calendar_day():
    # 16:30 UTC is 00:30 the next day in Shanghai: the business day has already turned
    assert business_date(datetime(2026, 6, 29, 16, 30, tzinfo=UTC)) == date(2026, 6, 30)
    assert business_date(datetime(2026, 6, 29, 15, 59, tzinfo=UTC)) == date(2026, 6, 29)
    assert start_of_business_day(date(2026, 6, 30)) == datetime(2026, 6, 29, 16, 0, tzinfo=UTC)


def test_naive_instants_are_refused():
    with pytest.raises(ValueError):
        business_date(datetime(2026, 6, 29, 16, 30))


def test_password_hash_round_trip_and_salt():
    a, b = hash_password("Demo@2026"), hash_password("Demo@2026")
    assert a != b  # per-user random salt
    assert verify_password("Demo@2026", a)
    assert not verify_password("demo@2026", a)
    assert not verify_password("Demo@2026", None)  # unknown user
    assert not verify_password("x", "garbage")


def test_weaker_hashes_are_marked_for_rehash():
    assert needs_rehash(hash_password("x", iterations=1000))
    assert not needs_rehash(hash_password("x"))
