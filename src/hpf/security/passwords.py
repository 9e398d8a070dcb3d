"""Password hashing: PBKDF2-HMAC-SM3 (GB/T 39786 身份鉴别; never a bare hash).

Stored form: ``pbkdf2_sm3$<iterations>$<salt b64>$<hash b64>``, a 16-byte random salt per
user and the iteration count kept with the hash, so the cost can rise later: a login that
succeeds against an older (or a pre-SM3 ``pbkdf2_sha256``) hash is rehashed with the
current parameters (``needs_rehash``). Comparison is constant-time, and checking an
unknown user costs as much as checking a known one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from hpf import crypto

SCHEME = "pbkdf2_sm3"
LEGACY = {"pbkdf2_sha256"}  # verified once more, then replaced on the next login
DEFAULT_ITERATIONS = 200_000
SALT_BYTES = 16
HASH_BYTES = 32

_iterations = DEFAULT_ITERATIONS
_dummy: dict[int, str] = {}


def configure(iterations: int) -> None:
    """Set the cost for new hashes (``[crypto] password_iterations``)."""
    global _iterations
    _iterations = iterations


def current_iterations() -> int:
    return _iterations


def hash_password(password: str, *, iterations: int | None = None) -> str:
    iterations = iterations or _iterations
    salt = crypto.random_bytes(SALT_BYTES)
    digest = crypto.pbkdf2_hmac_sm3(password.encode("utf-8"), salt, iterations, HASH_BYTES)
    return f"{SCHEME}${iterations}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Constant-time check; an unknown user (``stored`` None) takes as long as a known one."""
    if stored is None:
        if _iterations not in _dummy:
            _dummy[_iterations] = hash_password(secrets.token_urlsafe(12))
        stored, expected_ok = _dummy[_iterations], False
    else:
        expected_ok = True
    try:
        scheme, iterations, salt, digest = stored.split("$")
        rounds = int(iterations)
        if scheme == SCHEME:
            computed = crypto.pbkdf2_hmac_sm3(password.encode("utf-8"), _unb64(salt), rounds, HASH_BYTES)
        elif scheme in LEGACY:
            computed = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), _unb64(salt), rounds)
        else:
            return False
    except (ValueError, TypeError, crypto.CryptoError):
        return False
    return hmac.compare_digest(computed, _unb64(digest)) and expected_ok


def needs_rehash(stored: str) -> bool:
    scheme, iterations, *_ = stored.split("$")
    return scheme != SCHEME or int(iterations) < _iterations


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)
