"""Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP): the second factor.

HMAC-SHA1 with 6 digits and 30-second steps is what every authenticator app (and most
hardware tokens) implements; the algorithm is a parameter, so a centre issuing GM/T 0021
style SM3 tokens can switch to ``sm3``. The secret is stored encrypted (SM4-GCM) like other
personal data; a code is accepted once (the last used step is remembered) within ±1 step.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from collections.abc import Callable
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6
ALGORITHMS: dict[str, Callable] = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


def _digest(name: str):
    if name == "sm3":
        return lambda data=b"": hashlib.new("sm3", data)
    return ALGORITHMS[name]


def new_secret() -> str:
    """160 random bits (RFC 4226's recommended length), base32 without padding."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _key(secret_b32: str) -> bytes:
    text = secret_b32.strip().replace(" ", "").upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))


def hotp(key: bytes, counter: int, digits: int = DIGITS, algorithm: str = "sha1") -> str:
    mac = hmac.new(key, struct.pack(">Q", counter), _digest(algorithm)).digest()
    offset = mac[-1] & 0x0F  # dynamic truncation (RFC 4226 5.3)
    number = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10 ** digits).zfill(digits)


def step_of(unix_time: float, step: int = STEP_SECONDS) -> int:
    return int(unix_time // step)


def code_at(secret_b32: str, unix_time: float, *, digits: int = DIGITS, algorithm: str = "sha1") -> str:
    return hotp(_key(secret_b32), step_of(unix_time), digits, algorithm)


def verify(secret_b32: str, code: str, unix_time: float, *, last_step: int | None = None, window: int = 1,
           digits: int = DIGITS, algorithm: str = "sha1") -> int | None:
    """The time step the code matches (within ±``window`` steps and after ``last_step``, so a
    code is good once), or None."""
    code = (code or "").strip().replace(" ", "")
    if len(code) != digits or not code.isdigit():
        return None
    key, now = _key(secret_b32), step_of(unix_time)
    for step in range(now - window, now + window + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(hotp(key, step, digits, algorithm), code):
            return step
    return None


def provisioning_uri(secret_b32: str, account: str, issuer: str, *, digits: int = DIGITS,
                     algorithm: str = "sha1") -> str:
    """The ``otpauth://`` URI an authenticator app reads from a QR code."""
    label = quote(f"{issuer}:{account}")
    query = urlencode({"secret": secret_b32, "issuer": issuer, "algorithm": algorithm.upper(),
                       "digits": digits, "period": STEP_SECONDS})
    return f"otpauth://totp/{label}?{query}"
