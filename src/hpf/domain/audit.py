"""The audit trail's hash chain: pure rules, no I/O.

Every record carries ``hash = SM3(prev_hash ‖ canonical content)``; the first record's
``prev_hash`` is GENESIS. A record changed in place no longer matches its hash; a record
deleted leaves a gap in ``seq`` and a ``prev_hash`` that points at nothing; a record
inserted out of band either duplicates a ``seq`` (refused by the database) or breaks the
links around it. A consistent rewrite of the whole chain (SM3 has no key) is what the
SM2-signed checkpoints catch, and each record's HMAC-SM3 row MAC catches it at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

GENESIS = "0" * 64
CONTENT_FIELDS = ("seq", "occurred_at", "actor", "org_code", "ip", "action", "target", "result",
                  "summary", "request_id")
RESULTS = ("success", "failure", "denied")


@dataclass(frozen=True)
class AuditFields:
    """What one record says (everything but the chain links)."""

    actor: str          # username, or "system:<command>" for the command line and jobs
    action: str         # e.g. "auth.login", "param.value.add"
    result: str         # success | failure | denied
    target: str = ""    # what was acted on, e.g. "param:interest.rate.current_year"
    org_code: str = ""
    ip: str = ""
    summary: str = ""   # masked before/after summary
    request_id: str = ""


def canonical(seq: int, occurred_at: datetime, fields: AuditFields) -> bytes:
    when = occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    values = (str(seq), when, fields.actor, fields.org_code, fields.ip, fields.action, fields.target,
              fields.result, fields.summary, fields.request_id)
    # Unit separators between fields: no value can shift text into its neighbour.
    return "\x1f".join(v.replace("\x1f", " ") for v in values).encode("utf-8")


def link(sm3: Callable[[bytes], bytes], prev_hash: str, seq: int, occurred_at: datetime,
         fields: AuditFields) -> str:
    return sm3(bytes.fromhex(prev_hash) + canonical(seq, occurred_at, fields)).hex()


@dataclass(frozen=True)
class StoredRecord:
    seq: int
    occurred_at: datetime
    fields: AuditFields
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Problem:
    seq: int | None
    kind: str      # modified | deleted | inserted | truncated | checkpoint
    message: str   # Chinese, names the record


def check_chain(sm3: Callable[[bytes], bytes], records: Iterable[StoredRecord],
                head_seq: int, head_hash: str) -> list[Problem]:
    """Walk records in ``seq`` order; name every record that breaks the chain."""
    problems: list[Problem] = []
    expected_seq, prev = 1, GENESIS
    for r in records:
        if r.seq > expected_seq:
            problems.append(Problem(expected_seq, "deleted",
                                    f"第 {expected_seq} 至 {r.seq - 1} 条审计记录缺失（被删除）"))
        elif r.seq < expected_seq:  # cannot happen with a unique seq; kept for safety
            problems.append(Problem(r.seq, "inserted", f"第 {r.seq} 条审计记录重复"))
        if r.prev_hash != prev and r.seq == expected_seq:
            problems.append(Problem(r.seq, "inserted",
                                    f"第 {r.seq} 条审计记录的前序哈希不符（前一条记录被改动或此条为插入）"))
        if link(sm3, r.prev_hash, r.seq, r.occurred_at, r.fields) != r.hash:
            problems.append(Problem(r.seq, "modified", f"第 {r.seq} 条审计记录内容被修改"))
        expected_seq, prev = r.seq + 1, r.hash
    last = expected_seq - 1
    if last < head_seq:
        problems.append(Problem(last + 1, "truncated",
                                f"链头记录到第 {head_seq} 条，但只存在到第 {last} 条（末尾记录被删除）"))
    elif last > head_seq:
        problems.append(Problem(head_seq + 1, "inserted",
                                f"第 {head_seq + 1} 条之后的审计记录不在链头登记之内（被插入）"))
    elif last == head_seq and prev != head_hash:
        problems.append(Problem(last, "modified", "链头哈希与最后一条审计记录不符"))
    return problems
