"""审计记录归档: archive-then-purge of records older than the retention period, and the
re-check of an archive file (``hpf audit archive``, ``hpf audit verify-archive``).

A file is written and fsync'ed first; then its SM2-signed registry row (audit_archive),
an ``audit.archive`` record and the deletion of exactly the archived range commit in one
transaction. A range whose chain does not verify is refused: tampered records are
evidence and stay where ``hpf audit verify`` reports them.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from hpf import crypto
from hpf.crypto import integrity, keys
from hpf.crypto.errors import UnknownKeyId
from hpf.domain.audit import (
    GENESIS,
    MIN_RETENTION_DAYS,
    Problem,
    archive_cutoff,
    archive_line,
    check_chain,
    record_from_line,
)
from hpf.domain.errors import ConfigError, Conflict
from hpf.repositories import audit as repo
from hpf.repositories.uow import UnitOfWork
from hpf.services import audit_files
from hpf.services.audit_core import (
    Who,
    archive_message,
    check_archive_row,
    fields_of,
    mac_problem,
    signer,
    stored_record,
)
from hpf_adapters.db import Database

log = logging.getLogger("hpf.audit")
RECORDS_PER_ARCHIVE = 100_000  # bounds each file, its SM3 pass and its purge transaction


def archive(database: Database, *, directory: Path, who: Who, before: datetime | None = None,
            now: datetime | None = None, retention_days: int = MIN_RETENTION_DAYS,
            max_records: int = RECORDS_PER_ARCHIVE) -> dict | None:
    """审计记录归档: write records older than the retention period (or ``before``, never
    later) to signed archive files, then purge them; None when there is nothing to archive.

    Each file holds at most ``max_records`` records and is its own transaction; the result
    sums them up: from_seq, to_seq, records, cutoff and files (one dict per file)."""
    if retention_days < MIN_RETENTION_DAYS:
        raise ConfigError(f"审计记录留存期不能少于 {MIN_RETENTION_DAYS} 天（当前 {retention_days} 天）")
    if before is not None and before.tzinfo is None:
        raise ValueError("before must be timezone-aware")
    now = (now or datetime.now(UTC)).replace(microsecond=0)  # signed: stored to the second everywhere
    cutoff = archive_cutoff(now, retention_days, before).replace(microsecond=0)
    parts = []
    while (part := _archive_once(database, Path(directory), who, cutoff, now, max_records)) is not None:
        parts.append(part)
    if not parts:
        return None
    return {"from_seq": parts[0]["from_seq"], "to_seq": parts[-1]["to_seq"],
            "records": sum(p["record_count"] for p in parts), "cutoff": cutoff, "files": parts}


def _archive_once(database: Database, directory: Path, who: Who, cutoff: datetime, now: datetime,
                  max_records: int) -> dict | None:
    ring, key, sm2 = signer(database)
    with database.engine.connect().execution_options(hpf_read_only=True) as conn:
        last = repo.last_archive(conn)
        after, anchor = (last["to_seq"], last["last_hash"]) if last else (0, GENESIS)
        end = repo.archivable_end(conn, after, cutoff, max_records)
        if end is None:
            return None
        name = audit_files.file_name(after + 1, end)
        if repo.archive_named(conn, name) is not None:
            raise Conflict(f"归档文件 {name} 已有登记", code="audit_archive_exists")
        path = directory / name
        with audit_files.ArchiveWriter(path) as out:
            last_hash = _write_checked(conn, ring, out, (after, end), anchor)
            file_sm3 = out.finish()
    values = {"from_seq": after + 1, "to_seq": end, "record_count": end - after, "last_hash": last_hash,
              "cutoff": cutoff, "file_name": name, "file_sm3": file_sm3, "archived_at": now,
              "archived_by": who.actor[:80], "key_id": key.key_id}
    values["signature"] = sm2.sign(archive_message(values)).hex()
    try:
        _register_and_purge(database, who, values, expected_after=after)
    except BaseException:
        _discard_unregistered(database, path)
        raise
    log.info("audit records archived", extra={"from_seq": after + 1, "to_seq": end, "file": str(path)})
    return {**values, "path": str(path)}


def _write_checked(conn, ring: keys.Keyring, out: audit_files.ArchiveWriter, span: tuple[int, int],
                   anchor: str) -> str:
    """Stream records ``after+1``..``end`` into the file, checking links and MACs on the way;
    the hash of record ``end``. A broken range raises (the partial file is removed)."""
    after, end = span
    problems: list[Problem] = []
    tail = {"hash": ""}

    def records():
        for row in repo.events_in_order(conn, after=after, upto=end):
            if (bad := mac_problem(ring, row)) is not None:
                problems.append(bad)
            out.write(archive_line(row))
            tail["hash"] = row["hash"]
            yield stored_record(row)

    end_row = next(repo.events_in_order(conn, after=end - 1, upto=end), None)
    end_hash = end_row["hash"] if end_row is not None else ""
    problems.extend(check_chain(crypto.sm3, records(), end, end_hash, start_seq=after + 1, start_hash=anchor))
    if problems:
        raise Conflict("审计链在待归档范围内不完整，拒绝归档（请先执行 hpf audit verify 核查）："
                       + "；".join(p.message for p in problems[:5]), code="audit_chain_broken",
                       details={"problems": [p.message for p in problems]})
    return tail["hash"]


def _register_and_purge(database: Database, who: Who, values: dict, *, expected_after: int) -> None:
    first, last, count = values["from_seq"], values["to_seq"], values["record_count"]
    summary = (f"归档并清除第 {first} 至 {last} 条审计记录（{count} 条，"
               f"早于 {values['cutoff'].isoformat()}），文件 {values['file_name']}，SM3 {values['file_sm3']}")
    uow = UnitOfWork(database)
    with uow:
        # Appending locks the chain head: a second archiver (or any writer) waits here.
        uow.audit.append(fields_of(who, "audit.archive", "success", f"audit_event:{first}-{last}", summary),
                         values["archived_at"], crypto.sm3)
        conn = uow.session.connection()
        current = repo.last_archive(conn)
        if (current["to_seq"] if current else 0) != expected_after:
            raise Conflict("另一进程已同时归档审计记录，本次未清除任何记录", code="audit_archive_race")
        repo.add_archive(conn, **values)
        deleted = repo.delete_events(conn, first, last)
        if deleted != count:
            raise Conflict(f"应清除 {count} 条审计记录，实际 {deleted} 条，已回滚",
                           code="audit_archive_mismatch")
        uow.commit()


def _discard_unregistered(database: Database, path: Path) -> None:
    """After a failed purge: remove the file unless a committed row names it. When that
    cannot be known (the database went away mid-commit) the file stays: it is harmless."""
    try:
        with database.engine.connect().execution_options(hpf_read_only=True) as conn:
            registered = repo.archive_named(conn, path.name) is not None
    except Exception:
        log.warning("archive file kept, registration unknown", extra={"file": str(path)})
        return
    if not registered:
        path.unlink(missing_ok=True)


# ---------------------------------------------------------------- verify-archive

@dataclass
class ArchiveFileReport:
    file_name: str
    from_seq: int = 0
    to_seq: int = 0
    records: int = 0
    macs_unverifiable: int = 0  # sealed with an integrity key destroyed since
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_archive(database: Database, path: Path) -> ArchiveFileReport:
    """Re-read an archive file: its SM3 against the signed registry row, and every record's
    hash, link and MAC, from the previous archive's anchor to the registered last hash."""
    ring = keys.for_engine(database.engine)
    ring.refresh_if_stale()
    path = Path(path)
    report = ArchiveFileReport(path.name)
    with database.engine.connect().execution_options(hpf_read_only=True) as conn:
        row = repo.archive_named(conn, path.name)
        if row is None:
            report.problems.append(Problem(None, "archive", f"数据库中没有归档文件 {path.name} 的登记"))
            return report
        previous = repo.archive_ending_at(conn, row["from_seq"] - 1) if row["from_seq"] > 1 else None
    report.from_seq, report.to_seq = row["from_seq"], row["to_seq"]
    report.problems.extend(check_archive_row(ring, row))
    if audit_files.sm3_of(path) != row["file_sm3"]:
        report.problems.append(Problem(None, "archive", "归档文件的 SM3 与登记不符（文件被改动或替换）"))
    records = _file_records(ring, path, report)
    anchor = GENESIS if row["from_seq"] == 1 else previous["last_hash"] if previous else None
    if anchor is None:  # the previous registry row is gone: check_chain's start is unknown
        report.problems.append(Problem(row["from_seq"], "archive", f"找不到在第 {row['from_seq'] - 1} 条"
                                                                   "结束的前一归档登记，首条链接未核对"))
        first = next(records, None)
        anchor = first.prev_hash if first else GENESIS
        records = itertools.chain([first] if first else [], records)
    report.problems.extend(check_chain(crypto.sm3, records, row["to_seq"], row["last_hash"],
                                       start_seq=row["from_seq"], start_hash=anchor))
    if report.records != row["record_count"]:
        report.problems.append(Problem(None, "archive", f"归档文件有 {report.records} 条记录，"
                                                        f"登记为 {row['record_count']} 条"))
    report.problems.sort(key=lambda p: (p.seq is None, p.seq or 0))
    return report


def _file_records(ring: keys.Keyring, path: Path, report: ArchiveFileReport):
    """Records of the file; a bad line is a problem and is skipped (the walk names the gap)."""
    try:
        for line_no, obj in audit_files.read_lines(path):
            report.records += 1
            try:
                rec = record_from_line(obj)
            except (KeyError, ValueError, TypeError, AttributeError) as exc:
                report.problems.append(Problem(None, "modified",
                                               f"归档文件第 {line_no} 行不是完整的审计记录：{exc}"))
                continue
            key_id = str(obj.get("row_mac") or "").partition(integrity.SEPARATOR)[0]
            try:
                ring.get(key_id)
            except UnknownKeyId:
                report.macs_unverifiable += 1
            else:
                if (bad := mac_problem(ring, {**obj, "seq": rec.seq})) is not None:
                    report.problems.append(bad)
            yield rec
    except audit_files.ArchiveUnreadable as exc:
        report.problems.append(Problem(None, "modified",
                                       f"归档文件第 {exc.line_no} 行无法读取：{exc.reason}"))
