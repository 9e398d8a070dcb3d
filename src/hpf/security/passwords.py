"""Password hashing behind one pair of functions.

Stored form: ``<scheme>$<iterations>$<salt b64>$<hash b64>``, so the scheme and the cost
can change later (the national-crypto issue replaces SHA-256 with SM3) and old hashes keep
verifying until the user's next login rehashes them (``needs_rehash``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCHEME = "pbkdf2_sha256"
ITERATIONS = 260_000
_DUMMY = None  # computed lazily: verifying unknown users costs the same as known ones


def hash_password(password: str, *, iterations: int = ITERATIONS) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"{SCHEME}${iterations}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Constant-time check; an unknown user (``stored`` None) takes as long as a known one."""
    global _DUMMY
    if stored is None:
        _DUMMY = _DUMMY or hash_password(secrets.token_urlsafe(12))
        stored, expected_ok = _DUMMY, False
    else:
        expected_ok = True
    try:
        scheme, iterations, salt, digest = stored.split("$")
        if scheme != SCHEME:
            return False
        computed = hashlib.pbkdf2_hmac("sha256", password.encode(), _unb64(salt), int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, _unb64(digest)) and expected_ok


def needs_rehash(stored: str) -> bool:
    scheme, iterations, *_ = stored.split("$")
    return scheme != SCHEME or int(iterations) < ITERATIONS


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode())
