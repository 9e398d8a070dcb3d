"""幂等键: a retried API request gets the first response back instead of running twice.

The first request with a key claims it by inserting a row (the primary key (principal, key)
lets exactly one of two concurrent twins win), runs, and stores its status and JSON body.
A retry with the same key and the same request gets that response; the same key on another
request is refused, and so is a retry while the first is still running. A response that
was not produced (5xx, crash) releases the claim, so the retry runs. Keys live 24 hours.

A claim whose request died with its process (killed worker) stays "in progress" until it
expires: whether its transaction committed is unknown, so it is never run a second time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from hpf.crypto import core
from hpf.domain.errors import BadRequest, Conflict, HpfError
from hpf.repositories.idempotency import IdempotencyRepository
from hpf.repositories.uow import UnitOfWork

KEY_TTL = timedelta(hours=24)
_KEY = re.compile(r"[\x21-\x7e]{1,64}")  # visible ASCII, no spaces


class IdempotencyKeyInvalid(BadRequest):
    code = "idempotency_key_invalid"
    message = "Idempotency-Key 须为 1–64 个可见 ASCII 字符"


class IdempotencyKeyReused(HpfError):
    code = "idempotency_key_reused"
    status = 422
    message = "该幂等键已用于另一请求"


class IdempotencyInProgress(Conflict):
    code = "idempotency_in_progress"
    message = "使用该幂等键的请求仍在处理中，请稍后重试"


@dataclass(frozen=True)
class KeyedRequest:
    """Who sent which key with what: ``fingerprint`` is the SM3 of method, path and body."""

    principal: str
    key: str
    endpoint: str
    fingerprint: str


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: str


def check_key(raw: str) -> str:
    if not _KEY.fullmatch(raw):
        raise IdempotencyKeyInvalid(details={"header": "Idempotency-Key"})
    return raw


def keyed_request(principal: str, key: str, method: str, path: str, body: bytes) -> KeyedRequest:
    endpoint = f"{method} {path}"
    digest = core.sm3(endpoint.encode("utf-8") + b"\0" + body).hex()
    return KeyedRequest(principal, check_key(key), endpoint[:200], digest)


def begin(uow: UnitOfWork, req: KeyedRequest, now: datetime) -> StoredResponse | None:
    """Claim the key (None: run the request) or return the stored response to replay.
    Raises IdempotencyKeyReused or IdempotencyInProgress."""
    for _ in range(2):  # a twin may release its claim between our insert and our read
        if _claim(uow, req, now):
            return None
        with uow:
            row = IdempotencyRepository(uow.session).get(req.principal, req.key)
            if row is None:
                continue
            if row.request_hash != req.fingerprint:
                raise IdempotencyKeyReused(details={"endpoint": row.endpoint})
            if row.status_code is None:
                raise IdempotencyInProgress()
            return StoredResponse(row.status_code, row.response_body or "")
    raise IdempotencyInProgress()


def _claim(uow: UnitOfWork, req: KeyedRequest, now: datetime) -> bool:
    with uow:
        repo = IdempotencyRepository(uow.session)
        repo.drop_expired(req.principal, req.key, now - KEY_TTL)  # expired, not yet purged
        try:
            repo.claim(req.principal, req.key, req.endpoint, req.fingerprint, now)
        except IntegrityError:
            return False  # leaving the block rolls back
        uow.commit()
    return True


def finish(uow: UnitOfWork, req: KeyedRequest, status: int, body: str) -> None:
    """Keep the response for retries (a 4xx too: the same request would fail the same way)."""
    with uow:
        IdempotencyRepository(uow.session).save_response(req.principal, req.key, status, body)
        uow.commit()


def release(uow: UnitOfWork, req: KeyedRequest) -> None:
    """No response to keep (5xx, exception): forget the claim so that a retry runs."""
    with uow:
        IdempotencyRepository(uow.session).release(req.principal, req.key)
        uow.commit()


def purge_expired(uow: UnitOfWork, now: datetime) -> int:
    """Delete keys older than 24 hours; returns how many."""
    with uow:
        removed = IdempotencyRepository(uow.session).purge_created_before(now - KEY_TTL)
        uow.commit()
    return removed
