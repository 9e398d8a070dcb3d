"""The audit trail's hash chain: pure rules, no I/O.

Every record carries ``hash = SM3(prev_hash ‖ canonical content)``; the first record's
``prev_hash`` is GENESIS. A record changed in place no longer matches its hash; a record
deleted leaves a gap in ``seq`` and a ``prev_hash`` that points at nothing; a record
inserted out of band either duplicates a ``seq`` (refused by the database) or breaks the
links around it. A consistent rewrite of the whole chain (SM3 has no key) is what the
SM2-signed checkpoints catch, and each record's HMAC-SM3 row MAC catches it at once.

Retention moves the oldest records into signed archive files: the records left in the
database then start at an archive's ``to_seq + 1`` and link to its ``last_hash``, so the
chain is checked from that anchor instead of GENESIS (``check_chain(start_seq=…)``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hpf.domain.calendar import business_date, start_of_business_day
from hpf.domain.errors import ValidationFailed

GENESIS = "0" * 64
CONTENT_FIELDS = ("seq", "occurred_at", "actor", "org_code", "ip", "action", "target", "result",
                  "summary", "request_id", "role")
RESULTS = ("success", "failure", "denied")
LINK_FIELDS = ("prev_hash", "hash", "row_mac")
MIN_RETENTION_DAYS = 180  # 网络日志留存不少于六个月
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


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
    role: str = ""      # the actor's roles at the time, e.g. "teller,reviewer"


def canonical(seq: int, occurred_at: datetime, fields: AuditFields) -> bytes:
    when = occurred_at.astimezone(UTC).strftime(TIME_FORMAT)
    values = (str(seq), when, fields.actor, fields.org_code, fields.ip, fields.action, fields.target,
              fields.result, fields.summary, fields.request_id)
    if fields.role:  # records written before roles existed hash as they always did
        values = (*values, fields.role)
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
    kind: str      # modified | deleted | inserted | truncated | checkpoint | archive
    message: str   # Chinese, names the record


def check_chain(sm3: Callable[[bytes], bytes], records: Iterable[StoredRecord],
                head_seq: int, head_hash: str, *, start_seq: int = 1,
                start_hash: str = GENESIS) -> list[Problem]:
    """Walk records in ``seq`` order; name every record that breaks the chain.

    The chain starts at ``start_seq`` linking to ``start_hash`` (after an archive: its
    ``to_seq + 1`` and ``last_hash``); a record before the start should not be there."""
    problems: list[Problem] = []
    expected_seq, prev = start_seq, start_hash
    for r in records:
        if r.seq < start_seq:
            problems.append(Problem(r.seq, "inserted",
                                    f"第 {r.seq} 条审计记录已归档，却仍在（或又被放回）数据库中"))
            continue
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


# ---------------------------------------------------------------- retention and archives

@dataclass(frozen=True)
class ArchiveRange:
    """What an archive row claims: records ``from_seq``..``to_seq``, ``record_count`` of them."""

    from_seq: int
    to_seq: int
    record_count: int


def check_archives(archives: Iterable[ArchiveRange]) -> list[Problem]:
    """Archives must cover the chain's beginning without gap or overlap, one range each."""
    problems: list[Problem] = []
    expected = 1
    for a in sorted(archives, key=lambda a: a.from_seq):
        if a.from_seq > expected:
            problems.append(Problem(expected, "archive",
                                    f"第 {expected} 至 {a.from_seq - 1} 条审计记录既不在库中也无归档登记"
                                    "（归档登记被删除）"))
        elif a.from_seq < expected:
            problems.append(Problem(a.from_seq, "archive",
                                    f"第 {a.from_seq} 至 {a.to_seq} 条的归档登记与之前的归档重叠"))
        if a.to_seq < a.from_seq or a.record_count != a.to_seq - a.from_seq + 1:
            problems.append(Problem(a.from_seq, "archive", f"第 {a.from_seq} 至 {a.to_seq} 条的"
                                    f"归档登记记录数 {a.record_count} 不符"))
        expected = max(expected, a.to_seq + 1)
    return problems


def archive_cutoff(now: datetime, retention_days: int, before: datetime | None = None) -> datetime:
    """Records strictly before this instant may be archived: the start of the business day
    (Asia/Shanghai) ``retention_days`` before today, or ``before`` if that is earlier."""
    if retention_days < MIN_RETENTION_DAYS:
        raise ValueError(f"retention_days must be at least {MIN_RETENTION_DAYS}")
    limit = start_of_business_day(business_date(now) - timedelta(days=retention_days))
    return limit if before is None else min(before, limit)


def archive_line(row: Mapping) -> dict:
    """One archived record as a JSON object: every content field and the chain links."""
    line = {name: row[name] for name in CONTENT_FIELDS + LINK_FIELDS}
    line["occurred_at"] = row["occurred_at"].astimezone(UTC).strftime(TIME_FORMAT)
    return line


def record_from_line(line: Mapping) -> StoredRecord:
    """The inverse of ``archive_line`` (KeyError/ValueError when a field is missing or bad)."""
    occurred_at = datetime.strptime(line["occurred_at"], TIME_FORMAT).replace(tzinfo=UTC)
    fields = AuditFields(actor=line["actor"], action=line["action"], result=line["result"],
                         target=line["target"], org_code=line["org_code"], ip=line["ip"],
                         summary=line["summary"], request_id=line["request_id"], role=line.get("role", ""))
    return StoredRecord(int(line["seq"]), occurred_at, fields, line["prev_hash"], line["hash"])


# ---------------------------------------------------------------- search

@dataclass(frozen=True)
class AuditFilter:
    """What an auditor searches for; empty text means "any". ``action`` matches a prefix
    ("auth." finds every sign-in event), ``target`` a substring, the rest exactly; times are
    ``since <= occurred_at < until``."""

    actor: str | None = None
    action: str | None = None
    result: str | None = None
    target: str | None = None
    org_code: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def of(cls, **given) -> AuditFilter:
        """Normalise and check filters from any caller (console form, API, export)."""
        values = {k: (v.strip() or None) if isinstance(v, str) else v for k, v in given.items()}
        errors: dict[str, list[str]] = {}
        if values.get("result") and values["result"] not in RESULTS:
            errors["result"] = [f"结果应为 {'、'.join(RESULTS)} 之一"]
        for name in ("since", "until"):
            if values.get(name) is not None and values[name].tzinfo is None:
                errors[name] = ["时间须带时区"]
        since, until = values.get("since"), values.get("until")
        if not errors and since is not None and until is not None and since > until:
            errors["until"] = ["结束时间不能早于开始时间"]
        if errors:
            raise ValidationFailed("审计查询条件有误", details=errors)
        return cls(**values)
