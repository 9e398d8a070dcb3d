"""Audit trail: record who did what, checkpoint the chain with SM2, verify it.

``record`` writes inside the caller's unit of work, so the record commits with the change
it describes or not at all; ``record_now`` writes on its own (a refused login, whose
transaction rolls back). Summaries are masked before they are stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hpf import crypto
from hpf.crypto import integrity, keys
from hpf.crypto.masking import mask_text
from hpf.domain.audit import AuditFields, Problem, StoredRecord, check_chain
from hpf.repositories import audit as repo
from hpf.repositories.models.audit import AuditChain, AuditEvent
from hpf.repositories.uow import UnitOfWork
from hpf_adapters.db import Database

log = logging.getLogger("hpf.audit")


@dataclass(frozen=True)
class Who:
    """Who acts, from where: built by controllers from the request, by the CLI and jobs."""

    actor: str
    org_code: str = ""
    ip: str = ""
    request_id: str = ""

    @classmethod
    def system(cls, what: str) -> Who:
        return cls(actor=f"system:{what}")


def _fields(who: Who, action: str, result: str, target: str, summary: str) -> AuditFields:
    return AuditFields(actor=who.actor[:80], action=action, result=result, target=target[:200],
                       org_code=who.org_code[:20], ip=who.ip[:45], summary=mask_text(summary)[:2000],
                       request_id=who.request_id[:64])


def record(uow: UnitOfWork, who: Who, action: str, *, result: str = "success", target: str = "",
           summary: str = "", now: datetime | None = None) -> None:
    """Append a record in the caller's open unit of work (it commits with the change)."""
    uow.audit.append(_fields(who, action, result, target, summary), now or datetime.now(UTC), crypto.sm3)


def record_now(database: Database, who: Who, action: str, *, result: str = "success", target: str = "",
               summary: str = "", now: datetime | None = None) -> None:
    """Append and commit a record on its own (for events whose own transaction rolls back)."""
    uow = UnitOfWork(database)
    with uow:
        record(uow, who, action, result=result, target=target, summary=summary, now=now)
        uow.commit()


# ---------------------------------------------------------------- checkpoints

def _checkpoint_message(seq: int, chain_hash: str, signed_at: datetime) -> bytes:
    return f"HPF-AUDIT|{seq}|{chain_hash}|{signed_at.astimezone(UTC).isoformat()}".encode()


def checkpoint(database: Database, now: datetime | None = None) -> dict | None:
    """Sign the chain head with the SM2 audit key; None when nothing new since the last one."""
    ring = keys.for_engine(database.engine)
    ring.refresh_if_stale()
    key = ring.active("audit_signing")
    signer = crypto.SM2PrivateKey.from_bytes(key.secret)
    signed_at = (now or datetime.now(UTC)).replace(microsecond=0)
    with database.engine.begin() as conn:
        head = repo.head(conn)
        marks = repo.checkpoints(conn)
        if head is None or head["last_seq"] == 0 or (marks and marks[-1]["seq"] == head["last_seq"]):
            return None
        signature = signer.sign(_checkpoint_message(head["last_seq"], head["last_hash"], signed_at))
        repo.add_checkpoint(conn, seq=head["last_seq"], chain_hash=head["last_hash"], signed_at=signed_at,
                            key_id=key.key_id, signature=signature.hex())
    return {"seq": head["last_seq"], "chain_hash": head["last_hash"], "key_id": key.key_id}


# ---------------------------------------------------------------- verification

@dataclass
class AuditReport:
    records: int = 0
    head_seq: int = 0
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(database: Database) -> AuditReport:
    """Walk the whole chain: hashes and links, each record's MAC, the sealed head, and every
    SM2-signed checkpoint against the chain as it is now."""
    ring = keys.for_engine(database.engine)
    ring.refresh_if_stale()
    report = AuditReport()
    with database.engine.connect().execution_options(hpf_read_only=True) as conn:
        head = repo.head(conn)
        marks = repo.checkpoints(conn)
        wanted = {m["seq"] for m in marks}
        seen: dict[int, str] = {}
        if head is None:
            report.problems.append(Problem(None, "truncated", "审计链链头记录缺失"))
            return report
        reason = integrity.check(ring, "audit_chain", AuditChain.__integrity__, head, head["row_mac"])
        if reason:
            report.problems.append(Problem(None, "modified", f"审计链链头被改动：{reason}"))
        report.head_seq = head["last_seq"]

        def records():
            for row in repo.events_in_order(conn):
                report.records += 1
                bad = integrity.check(ring, "audit_event", AuditEvent.__integrity__, row, row["row_mac"])
                if bad:
                    report.problems.append(Problem(row["seq"], "modified",
                                                   f"第 {row['seq']} 条审计记录的完整性校验值不符：{bad}"))
                if row["seq"] in wanted:
                    seen[row["seq"]] = row["hash"]
                yield StoredRecord(row["seq"], row["occurred_at"], AuditFields(
                    actor=row["actor"], action=row["action"], result=row["result"], target=row["target"],
                    org_code=row["org_code"], ip=row["ip"], summary=row["summary"],
                    request_id=row["request_id"]), row["prev_hash"], row["hash"])

        report.problems.extend(check_chain(crypto.sm3, records(), head["last_seq"], head["last_hash"]))
    for mark in marks:
        report.checkpoints += 1
        report.problems.extend(_check_checkpoint(ring, mark, seen.get(mark["seq"])))
    report.problems.sort(key=lambda p: (p.seq is None, p.seq or 0))
    return report


def _check_checkpoint(ring: keys.Keyring, mark, current_hash: str | None) -> list[Problem]:
    seq = mark["seq"]
    try:
        public = crypto.SM2PrivateKey.from_bytes(ring.get(mark["key_id"]).secret).public_key()
        valid = public.verify(bytes.fromhex(mark["signature"]),
                              _checkpoint_message(seq, mark["chain_hash"], mark["signed_at"]))
    except (crypto.CryptoError, ValueError):
        valid = False
    if not valid:
        return [Problem(seq, "checkpoint", f"第 {seq} 条处的检查点签名无效（检查点被伪造或改动）")]
    if current_hash != mark["chain_hash"]:
        return [Problem(seq, "checkpoint",
                        f"第 {seq} 条处的审计链与已签名的检查点不符（之前的记录被整体重写）")]
    return []
