"""Audit retention: records past the retention period move to an SM2-signed file and only
then leave the database; `verify` keeps working from the archive's anchor, a forged archive
row or an altered file is named, and a deletion no archive covers is still a deletion.

SQLite runs on a fresh file per test; a server database (CI) is reset around each test the
way test_audit_trail.py does, so no chain is left half-archived for later tests.
"""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from hpf.config import load_settings
from hpf.crypto import integrity, keys
from hpf.domain.audit import GENESIS
from hpf.domain.errors import ConfigError, Conflict
from hpf.repositories.database import open_app_database
from hpf.repositories.models import AuditArchive, AuditChain, AuditCheckpoint, AuditEvent
from hpf.services import audit
from hpf.services.crypto import upgrade_database

NOW = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=400)
RECENT = NOW - timedelta(days=10)
WHO = audit.Who(actor="auditor01", org_code="001001", ip="10.1.2.3", request_id="req-9")
OPERATOR = audit.Who(actor="os:hpf", request_id="cli:audit archive")


@pytest.fixture
def trail(db_url, tmp_path, request):
    if db_url.startswith("sqlite"):
        settings = load_settings(environ={}, overrides={"instance_path": str(tmp_path / "instance"),
                                                        "log.format": "text"})
        database = open_app_database(settings, f"sqlite:///{tmp_path / 'archive.sqlite3'}")
        upgrade_database(database)
        reset(database)
        yield database
        database.dispose()
        return
    database = request.getfixturevalue("database")
    reset(database)
    yield database
    reset(database)


def reset(database) -> None:
    """An empty, consistent audit trail (the same as test_audit_trail.reset, plus archives)."""
    ring = keys.for_engine(database.engine)
    ring.refresh_if_stale()
    head = {"id": 1, "last_seq": 0, "last_hash": GENESIS}
    mac = integrity.compute(ring.active("integrity"), "audit_chain", AuditChain.__integrity__, head)
    with database.engine.begin() as conn:
        for model in (AuditArchive, AuditCheckpoint, AuditEvent):
            conn.execute(model.__table__.delete())
        conn.execute(AuditChain.__table__.update().where(AuditChain.id == 1)
                     .values(last_seq=0, last_hash=GENESIS, row_mac=mac))


def record_at(database, start: datetime, n: int) -> None:
    for i in range(n):
        audit.record_now(database, WHO, "param.value.add", target=f"param:p{i}", summary=f"value={i}",
                         now=start + timedelta(minutes=i))


def seqs(database) -> list[int]:
    with database.engine.connect() as conn:
        return list(conn.execute(sa.select(AuditEvent.seq).order_by(AuditEvent.seq)).scalars())


def sql(database, statement: str, **params) -> None:
    with database.engine.begin() as conn:
        conn.execute(sa.text(statement), params)


def kinds(report) -> list[tuple[int | None, str]]:
    return [(p.seq, p.kind) for p in report.problems]


def lines(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def rewrite(path: Path, records: list[dict]) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def test_old_records_move_to_a_signed_file_and_leave_the_database(trail, tmp_path):
    record_at(trail, OLD, 3)
    assert audit.checkpoint(trail, now=OLD + timedelta(hours=1))["seq"] == 3
    record_at(trail, OLD + timedelta(days=1), 2)
    record_at(trail, RECENT, 2)
    done = audit.archive(trail, directory=tmp_path / "archive", who=OPERATOR, now=NOW)
    assert (done["from_seq"], done["to_seq"], done["records"]) == (1, 5, 5)
    assert done["cutoff"] == datetime(2026, 5, 25, 16, 0, tzinfo=UTC)  # 26 May 00:00 Beijing
    path = Path(done["files"][0]["path"])
    assert path.name == "audit-000000000001-000000000005.jsonl.gz" and path.parent == tmp_path / "archive"
    assert not list(path.parent.glob("*.partial"))
    archived = lines(path)
    assert [r["seq"] for r in archived] == [1, 2, 3, 4, 5]
    assert set(archived[0]) >= {"occurred_at", "actor", "org_code", "ip", "action", "target", "result",
                                "summary", "request_id", "prev_hash", "hash", "row_mac"}
    assert archived[0]["prev_hash"] == GENESIS and archived[0]["actor"] == "auditor01"
    # The two recent records stay, and the purge itself is a record that stays too.
    assert seqs(trail) == [6, 7, 8]
    with trail.engine.connect() as conn:
        last = conn.execute(sa.select(AuditEvent.__table__).where(AuditEvent.seq == 8)).one()
        row = conn.execute(sa.select(AuditArchive.__table__)).one()
    assert (last.action, last.actor, last.target) == ("audit.archive", "os:hpf", "audit_event:1-5")
    assert (row.record_count, row.last_hash, row.archived_by) == (5, archived[-1]["hash"], "os:hpf")
    report = audit.verify(trail)
    assert report.ok, report.problems
    assert (report.records, report.head_seq, report.archives, report.archived) == (3, 8, 1, 5)
    assert report.checkpoints == 1  # inside the archived range: its signature is still checked
    file_report = audit.verify_archive(trail, path)
    assert file_report.ok and (file_report.from_seq, file_report.to_seq, file_report.records) == (1, 5, 5)


def test_a_second_run_with_nothing_older_archives_nothing(trail, tmp_path):
    record_at(trail, OLD, 2)
    record_at(trail, RECENT, 1)
    assert audit.archive(trail, directory=tmp_path, who=OPERATOR, now=NOW)["records"] == 2
    assert audit.archive(trail, directory=tmp_path, who=OPERATOR, now=NOW) is None
    assert seqs(trail) == [3, 4] and len(list(tmp_path.glob("*.jsonl.gz"))) == 1
    # Time passes: the next archive continues from the first one's anchor.
    later = NOW + timedelta(days=200)
    done = audit.archive(trail, directory=tmp_path, who=OPERATOR, now=later)
    assert (done["from_seq"], done["to_seq"]) == (3, 4)
    assert seqs(trail) == [5]
    report = audit.verify(trail)
    assert report.ok and (report.archives, report.archived) == (2, 4)
    for path in sorted(tmp_path.glob("*.jsonl.gz")):
        assert audit.verify_archive(trail, path).ok


def test_large_ranges_are_archived_in_bounded_files(trail, tmp_path):
    record_at(trail, OLD, 5)
    done = audit.archive(trail, directory=tmp_path, who=OPERATOR, now=NOW, max_records=2)
    assert [(f["from_seq"], f["to_seq"]) for f in done["files"]] == [(1, 2), (3, 4), (5, 5)]
    assert done["records"] == 5 and seqs(trail) == [6, 7, 8]  # one audit.archive record per file
    assert audit.verify(trail).ok
    assert all(audit.verify_archive(trail, Path(f["path"])).ok for f in done["files"])


def test_before_narrows_the_cutoff_but_never_widens_it(trail, tmp_path):
    record_at(trail, OLD, 4)
    record_at(trail, RECENT, 1)
    done = audit.archive(trail, directory=tmp_path, who=OPERATOR, now=NOW,
                         before=OLD + timedelta(minutes=2))
    assert (done["from_seq"], done["to_seq"]) == (1, 2)
    assert audit.archive(trail, directory=tmp_path, who=OPERATOR, now=NOW, before=NOW)["to_seq"] == 4
    assert seqs(trail)[0] == 5  # the recent record stayed although `before` was later


def test_a_forged_or_altered_archive_row_is_named(trail, tmp_path):
    record_at(trail, OLD, 3)
    audit.archive(trail, directory=tmp_path, who=OPERATOR, now=NOW)
    sql(trail, "UPDATE audit_archive SET archived_by = 'nobody'")
    assert kinds(audit.verify(trail)) == [(1, "archive")]
    sql(trail, "UPDATE audit_archive SET archived_by = 'os:hpf', signature = '3006020101020101'")
    assert kinds(audit.verify(trail)) == [(1, "archive")]


def test_a_deleted_archive_row_or_a_deletion_outside_any_archive_is_still_a_deletion(trail, tmp_path):
    record_at(trail, OLD, 3)
    record_at(trail, RECENT, 3)
    audit.archive(trail, directory=tmp_path, who=OPERATOR, now=NOW)
    sql(trail, "DELETE FROM audit_event WHERE seq = 4")
    assert kinds(audit.verify(trail)) == [(4, "deleted")]
    sql(trail, "DELETE FROM audit_archive")
    report = audit.verify(trail)
    assert (1, "deleted") in kinds(report)
    assert "第 1 至 4 条审计记录缺失" in report.problems[0].message


def test_an_altered_archive_file_is_named_with_its_record(trail, tmp_path):
    record_at(trail, OLD, 3)
    path = Path(audit.archive(trail, directory=tmp_path, who=OPERATOR, now=NOW)["files"][0]["path"])
    records = lines(path)
    records[1]["actor"] = "nobody"
    rewrite(path, records)
    report = audit.verify_archive(trail, path)
    assert (None, "archive") in kinds(report) and (2, "modified") in kinds(report)
    assert any("SM3 与登记不符" in p.message for p in report.problems)
    rewrite(path, [records[0], records[2]])  # a record taken out of the file
    assert (2, "deleted") in kinds(audit.verify_archive(trail, path))
    path.write_bytes(path.read_bytes()[:20])  # truncated
    report = audit.verify_archive(trail, path)
    assert not report.ok and any("无法读取" in p.message for p in report.problems)
    unknown = tmp_path / "audit-000000000009-000000000009.jsonl.gz"
    rewrite(unknown, records[:1])
    assert kinds(audit.verify_archive(trail, unknown)) == [(None, "archive")]
    assert audit.verify(trail).ok  # the database side is unaffected


def test_a_broken_chain_is_never_archived_and_purged(trail, tmp_path):
    record_at(trail, OLD, 3)
    sql(trail, "UPDATE audit_event SET actor = 'nobody' WHERE seq = 2")
    with pytest.raises(Conflict, match="第 2 条审计记录"):
        audit.archive(trail, directory=tmp_path / "archive", who=OPERATOR, now=NOW)
    assert seqs(trail) == [1, 2, 3] and list((tmp_path / "archive").iterdir()) == []
    with trail.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(AuditArchive)).scalar_one() == 0


def test_nothing_is_purged_unless_the_file_is_on_disk_and_the_purge_commits(trail, tmp_path, monkeypatch):
    from hpf.repositories import audit as repo
    from hpf.services import audit_files

    record_at(trail, OLD, 3)
    target = tmp_path / "archive"

    def disk_full(self):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(audit_files.ArchiveWriter, "finish", disk_full)
        with pytest.raises(OSError):
            audit.archive(trail, directory=target, who=OPERATOR, now=NOW)
    assert seqs(trail) == [1, 2, 3] and list(target.iterdir()) == []  # no partial file left
    deleting = repo.delete_events

    def deleted_then_failed(conn, first, last, batch=5000):
        deleting(conn, first, last, batch)
        raise RuntimeError("connection lost")

    with monkeypatch.context() as m:
        m.setattr(repo, "delete_events", deleted_then_failed)
        with pytest.raises(RuntimeError):
            audit.archive(trail, directory=target, who=OPERATOR, now=NOW)
    assert seqs(trail) == [1, 2, 3] and list(target.iterdir()) == []  # rolled back, file removed
    report = audit.verify(trail)
    assert report.ok and report.archives == 0 and report.head_seq == 3
    assert audit.archive(trail, directory=target, who=OPERATOR, now=NOW)["records"] == 3


def test_retention_shorter_than_180_days_is_refused(trail, tmp_path):
    with pytest.raises(ConfigError, match="180"):
        load_settings(environ={}, overrides={"instance_path": str(tmp_path), "audit.retention_days": "90"})
    with pytest.raises(ConfigError, match="六个月"):
        load_settings(environ={"HPF_AUDIT_RETENTION_DAYS": "179", "HPF_INSTANCE_PATH": str(tmp_path)})
    settings = load_settings(environ={}, overrides={"instance_path": str(tmp_path)})
    assert settings.audit.retention_days == 180
    assert settings.audit.archive_dir == str((tmp_path / "audit-archive").resolve())
    with pytest.raises(ConfigError, match="180"):
        audit.archive(trail, directory=tmp_path, who=OPERATOR, now=NOW, retention_days=30)
    record_at(trail, NOW - timedelta(days=200), 1)
    assert audit.archive(trail, directory=tmp_path, who=OPERATOR, now=NOW, retention_days=365) is None


# ---------------------------------------------------------------- command line and job

@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    db_file = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("HPF_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("HPF_DATABASE_URL", f"sqlite:///{db_file}")
    monkeypatch.setenv("HPF_LOG_FORMAT", "text")
    monkeypatch.delenv("HPF_CONFIG", raising=False)
    return tmp_path


def run(*args):
    from hpf.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def open_env_database():
    settings = load_settings(environ=dict(os.environ))
    return open_app_database(settings)


def test_hpf_audit_archive_and_verify_archive(cli_env):
    assert run("db", "upgrade").exit_code == 0
    database = open_env_database()
    reset(database)
    record_at(database, datetime.now(UTC) - timedelta(days=400), 3)
    database.dispose()
    target = cli_env / "kept"
    done = run("audit", "archive", "--dir", str(target))
    assert done.exit_code == 0, done.output
    assert "已归档并清除第 1 至 3 条审计记录，共 3 条" in done.output and "北京时间" in done.output
    again = run("audit", "archive", "--dir", str(target), "--before", "2020-01-01")
    assert again.exit_code == 0 and "没有早于 2020-01-01 00:00 北京时间的审计记录" in again.output
    verified = run("audit", "verify")
    assert verified.exit_code == 0 and "已归档 3 条（1 个归档文件）" in verified.output
    (path,) = target.glob("*.jsonl.gz")
    ok = run("audit", "verify-archive", str(path))
    assert ok.exit_code == 0 and "第 1 至 3 条，读取 3 条" in ok.output and "归档文件完整" in ok.output
    records = lines(path)
    records[2]["summary"] = "改过"
    rewrite(path, records)
    bad = run("audit", "verify-archive", str(path))
    assert bad.exit_code == 1 and "第 3 条审计记录内容被修改" in bad.output


def test_the_archive_job_uses_the_configured_retention(cli_env, monkeypatch):
    from hpf.jobs import load_jobs
    from hpf.services import jobs

    assert run("db", "upgrade").exit_code == 0
    monkeypatch.setenv("HPF_AUDIT_ARCHIVE_DIR", str(cli_env / "job-archive"))
    monkeypatch.setenv("HPF_AUDIT_RETENTION_DAYS", "365")
    database = open_env_database()
    try:
        reset(database)
        record_at(database, datetime.now(UTC) - timedelta(days=400), 2)
        record_at(database, datetime.now(UTC) - timedelta(days=300), 1)  # kept: retention is 365 days
        registry = load_jobs()
        assert registry.get("audit.archive").schedule == "40 2 * * *"
        day = datetime.now(UTC).date()
        result = jobs.run_job(database, registry, "audit.archive", day)
        assert result.status == "succeeded", result.message
        assert result.counts == {"archived": 2, "files": 1, "to_seq": 2}
        assert seqs(database) == [3, 4] and len(list((cli_env / "job-archive").glob("*.gz"))) == 1
        rerun = jobs.run_job(database, registry, "audit.archive", day, rerun=True)
        assert rerun.counts == {"archived": 0, "files": 0} and "365" in rerun.message
        assert audit.verify(database).ok
    finally:
        database.dispose()
