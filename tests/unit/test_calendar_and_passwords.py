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


def test_hash_is_pbkdf2_hmac_sm3_with_its_cost_stored():
    import base64

    from hpf import crypto

    stored = hash_password("Demo@2026", iterations=500)
    scheme, iterations, salt, digest = stored.split("$")
    assert (scheme, iterations) == ("pbkdf2_sm3", "500") and len(base64.b64decode(salt)) == 16
    expected = crypto.pbkdf2_hmac_sm3(b"Demo@2026", base64.b64decode(salt), 500, 32,
                                      provider=crypto.build_provider("reference"))
    assert base64.b64decode(digest) == expected  # the independent implementation agrees


def test_raising_the_cost_rehashes_on_next_login(monkeypatch):
    from hpf.security import passwords

    old = hash_password("x", iterations=20_000)
    monkeypatch.setattr(passwords, "_iterations", 20_000)
    assert not needs_rehash(old)
    passwords.configure(30_000)
    assert needs_rehash(old) and verify_password("x", old)  # still verifies until replaced
    assert not needs_rehash(hash_password("x"))


def test_legacy_sha256_hashes_verify_once_then_rehash():
    import base64
    import hashlib

    salt = b"0123456789abcdef"
    legacy = "pbkdf2_sha256$1000$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(
        hashlib.pbkdf2_hmac("sha256", b"Old@2025", salt, 1000)).decode()
    assert verify_password("Old@2025", legacy) and needs_rehash(legacy)
    assert not verify_password("old@2025", legacy)


@pytest.mark.parametrize("stored", ["pbkdf2_sm3$x$aa$bb", "pbkdf2_sm3$1000$!!$bb", "md5$1$a$b", "",
                                    "pbkdf2_sm3$0$AAAAAAAAAAAAAAAAAAAAAA==$AA=="])
def test_malformed_hashes_never_verify(stored):
    assert not verify_password("x", stored)
