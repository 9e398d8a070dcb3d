"""TOTP (RFC 6238) against the RFC's own test vectors, and the acceptance rules."""

from __future__ import annotations

import base64

import pytest

from hpf.domain import totp

# RFC 6238 Appendix B: the seeds are ASCII "1234567890" repeated to the hash's key length.
SEED = {"sha1": b"12345678901234567890", "sha256": b"12345678901234567890123456789012",
        "sha512": b"1234567890123456789012345678901234567890123456789012345678901234"}
VECTORS = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize("t, sha1, sha256, sha512", VECTORS)
def test_rfc6238_vectors(t, sha1, sha256, sha512):
    for algorithm, expected in (("sha1", sha1), ("sha256", sha256), ("sha512", sha512)):
        secret = base64.b32encode(SEED[algorithm]).decode()
        assert totp.code_at(secret, t, digits=8, algorithm=algorithm) == expected


def test_rfc4226_hotp_vectors():
    expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
                "520489"]
    assert [totp.hotp(b"12345678901234567890", c) for c in range(10)] == expected


def test_a_code_is_good_within_one_step_and_only_once():
    secret = totp.new_secret()
    now = 1_800_000_000.0
    code = totp.code_at(secret, now)
    step = totp.verify(secret, code, now)
    assert step == totp.step_of(now)
    assert totp.verify(secret, code, now + 30) == step          # the next step still takes it
    assert totp.verify(secret, code, now + 90) is None          # too late
    assert totp.verify(secret, code, now, last_step=step) is None  # replayed


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "abcdef", "12 34 5x"])
def test_malformed_codes_are_refused(bad):
    assert totp.verify(totp.new_secret(), bad, 1_800_000_000.0) is None


def test_secrets_are_160_bits_and_the_uri_is_what_apps_read():
    secret = totp.new_secret()
    assert len(base64.b32decode(secret + "=" * (-len(secret) % 8))) == 20
    uri = totp.provisioning_uri(secret, "sysadmin", "HPF住房公积金")
    assert uri.startswith("otpauth://totp/HPF%E4%BD%8F") and f"secret={secret}" in uri
    assert "digits=6" in uri and "period=30" in uri and "algorithm=SHA1" in uri


def test_sm3_variant_for_national_tokens():
    secret = base64.b32encode(b"12345678901234567890").decode()
    code = totp.code_at(secret, 59, algorithm="sm3")
    assert len(code) == 6 and code.isdigit()
    assert code != totp.code_at(secret, 59)
