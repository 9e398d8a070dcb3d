"""Audit trail: record who did what, checkpoint the chain with SM2, verify it.

``record`` writes inside the caller's unit of work, so the record commits with the change
it describes or not at all; ``record_now`` writes on its own (a refused login, whose
transaction rolls back). Summaries are masked before they are stored. Records older than
the retention period are moved to signed archive files (``archive``, ``verify_archive``:
audit_archive); ``verify`` then checks the chain left in the database from the last
archive's anchor. Search and export: ``search``, ``export_csv``, ``export_xlsx``
(audit_export). This module is the one to import: it re-exports those.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hpf import crypto
from hpf.crypto import integrity, keys
from hpf.domain.audit import GENESIS, ArchiveRange, Problem, check_archives, check_chain
from hpf.repositories import audit as repo
from hpf.repositories.models.audit import AuditChain
from hpf.repositories.uow import UnitOfWork
from hpf.services.audit_archive import ArchiveFileReport, archive, verify_archive
from hpf.services.audit_core import (
    Who,
    check_archive_row,
    fields_of,
    mac_problem,
    signature_ok,
    signer,
    stored_record,
)
from hpf.services.audit_export import AuditItem, Page, export_csv, export_xlsx, search
from hpf_adapters.db import Database

__all__ = [
    "ArchiveFileReport", "AuditItem", "AuditReport", "Page", "Who", "archive", "checkpoint", "export_csv",
    "export_xlsx", "record", "record_now", "search", "verify", "verify_archive",
]
log = logging.getLogger("hpf.audit")


def record(uow: UnitOfWork, who: Who, action: str, *, result: str = "success", target: str = "",
           summary: str = "", now: datetime | None = None) -> None:
    """Append a record in the caller's open unit of work (it commits with the change)."""
    uow.audit.append(fields_of(who, action, result, target, summary), now or datetime.now(UTC), crypto.sm3)


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
    _ring, key, sm2 = signer(database)
    signed_at = (now or datetime.now(UTC)).replace(microsecond=0)
    with database.engine.begin() as conn:
        head = repo.head(conn)
        marks = repo.checkpoints(conn)
        if head is None or head["last_seq"] == 0 or (marks and marks[-1]["seq"] == head["last_seq"]):
            return None
        signature = sm2.sign(_checkpoint_message(head["last_seq"], head["last_hash"], signed_at))
        repo.add_checkpoint(conn, seq=head["last_seq"], chain_hash=head["last_hash"], signed_at=signed_at,
                            key_id=key.key_id, signature=signature.hex())
    return {"seq": head["last_seq"], "chain_hash": head["last_hash"], "key_id": key.key_id}


def _check_checkpoint(ring: keys.Keyring, mark, current_hash: str | None, *, archived: bool) -> list[Problem]:
    """A checkpoint inside an archived range is checked for its signature only (and against
    the archive's anchor when an archive ends there): its records have left the database."""
    seq = mark["seq"]
    if not signature_ok(ring, mark["key_id"], mark["signature"],
                        _checkpoint_message(seq, mark["chain_hash"], mark["signed_at"])):
        return [Problem(seq, "checkpoint", f"第 {seq} 条处的检查点签名无效（检查点被伪造或改动）")]
    if (archived and current_hash is None) or current_hash == mark["chain_hash"]:
        return []
    return [Problem(seq, "checkpoint", f"第 {seq} 条处的审计链与已签名的检查点不符（之前的记录被整体重写）")]


# ---------------------------------------------------------------- verification

@dataclass
class AuditReport:
    records: int = 0
    head_seq: int = 0
    checkpoints: int = 0
    archives: int = 0
    archived: int = 0  # records moved to archive files
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(database: Database) -> AuditReport:
    """Walk the chain: hashes and links from the last archive's anchor (GENESIS without
    one), each record's MAC, the sealed head, every signed archive row and checkpoint."""
    ring = keys.for_engine(database.engine)
    ring.refresh_if_stale()
    report = AuditReport()
    with database.engine.connect().execution_options(hpf_read_only=True) as conn:
        head = repo.head(conn)
        marks = repo.checkpoints(conn)
        archived = repo.archives(conn)
        if head is None:
            report.problems.append(Problem(None, "truncated", "审计链链头记录缺失"))
            return report
        reason = integrity.check(ring, "audit_chain", AuditChain.__integrity__, head, head["row_mac"])
        if reason:
            report.problems.append(Problem(None, "modified", f"审计链链头被改动：{reason}"))
        report.head_seq = head["last_seq"]
        report.problems.extend(_check_archives(ring, archived, report))
        last = max(archived, key=lambda a: a["to_seq"], default=None)
        start_seq, start_hash = (last["to_seq"] + 1, last["last_hash"]) if last else (1, GENESIS)
        wanted = {m["seq"] for m in marks}
        seen: dict[int, str] = {a["to_seq"]: a["last_hash"] for a in archived}

        def records():
            for row in repo.events_in_order(conn):
                report.records += 1
                if (bad := mac_problem(ring, row)) is not None:
                    report.problems.append(bad)
                if row["seq"] in wanted and row["seq"] >= start_seq:
                    seen[row["seq"]] = row["hash"]
                yield stored_record(row)

        report.problems.extend(check_chain(crypto.sm3, records(), head["last_seq"], head["last_hash"],
                                           start_seq=start_seq, start_hash=start_hash))
    for mark in marks:
        report.checkpoints += 1
        report.problems.extend(_check_checkpoint(ring, mark, seen.get(mark["seq"]),
                                                 archived=mark["seq"] < start_seq))
    report.problems.sort(key=lambda p: (p.seq is None, p.seq or 0))
    return report


def _check_archives(ring: keys.Keyring, archived, report: AuditReport) -> list[Problem]:
    """Archive rows: signed, and together covering seq 1..last without gap or overlap."""
    report.archives, report.archived = len(archived), sum(a["record_count"] for a in archived)
    problems = check_archives(ArchiveRange(a["from_seq"], a["to_seq"], a["record_count"]) for a in archived)
    for a in archived:
        problems.extend(check_archive_row(ring, a))
    return problems
