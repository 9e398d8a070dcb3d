"""The audit hash chain's rules, with worked records (pure: no database)."""

from datetime import UTC, datetime, timedelta

import pytest

from hpf import crypto
from hpf.domain.audit import (
    GENESIS,
    ArchiveRange,
    AuditFields,
    AuditFilter,
    StoredRecord,
    archive_cutoff,
    archive_line,
    canonical,
    check_archives,
    check_chain,
    link,
    record_from_line,
)
from hpf.domain.errors import ValidationFailed

T = datetime(2026, 11, 22, 8, 30, 0, 123456, tzinfo=UTC)


def chain(n: int) -> list[StoredRecord]:
    out, prev = [], GENESIS
    for seq in range(1, n + 1):
        fields = AuditFields(actor=f"teller0{seq}", action="auth.login", result="success", ip="10.0.0.1")
        digest = link(crypto.sm3, prev, seq, T, fields)
        out.append(StoredRecord(seq, T, fields, prev, digest))
        prev = digest
    return out


def test_canonical_form_and_link_are_fixed():
    fields = AuditFields(actor="teller01", action="auth.login", result="success", target="user:teller01",
                         org_code="001001", ip="10.0.0.1", summary="", request_id="r1")
    assert canonical(1, T, fields) == (b"1\x1f2026-11-22T08:30:00.123456Z\x1fteller01\x1f001001\x1f10.0.0.1"
                                       b"\x1fauth.login\x1fuser:teller01\x1fsuccess\x1f\x1fr1")
    expected = crypto.sm3(bytes(32) + canonical(1, T, fields)).hex()
    assert link(crypto.sm3, GENESIS, 1, T, fields) == expected


def test_an_intact_chain_has_no_problems():
    records = chain(5)
    assert check_chain(crypto.sm3, records, 5, records[-1].hash) == []
    assert check_chain(crypto.sm3, [], 0, GENESIS) == []


def test_a_modified_record_is_named():
    records = chain(5)
    r = records[2]
    records[2] = StoredRecord(r.seq, r.occurred_at, AuditFields("admin", r.fields.action, r.fields.result),
                              r.prev_hash, r.hash)
    problems = check_chain(crypto.sm3, records, 5, records[-1].hash)
    assert [(p.seq, p.kind) for p in problems] == [(3, "modified")]


def test_a_deleted_record_is_named():
    records = chain(5)
    del records[1]
    problems = check_chain(crypto.sm3, records, 5, records[-1].hash)
    assert [(p.seq, p.kind) for p in problems] == [(2, "deleted")]
    assert "第 2 至 2 条审计记录缺失" in problems[0].message


def test_a_truncated_tail_and_an_unregistered_insert():
    records = chain(5)
    assert [p.kind for p in check_chain(crypto.sm3, records[:3], 5, records[-1].hash)] == ["truncated"]
    assert [p.kind for p in check_chain(crypto.sm3, records, 4, records[3].hash)] == ["inserted"]


def test_a_record_rewritten_with_a_fresh_hash_breaks_the_next_link():
    records = chain(4)
    r = records[1]
    forged = AuditFields("nobody", r.fields.action, r.fields.result)
    records[1] = StoredRecord(2, T, forged, r.prev_hash, link(crypto.sm3, r.prev_hash, 2, T, forged))
    problems = check_chain(crypto.sm3, records, 4, records[-1].hash)
    assert [(p.seq, p.kind) for p in problems] == [(3, "inserted")]


# ---------------------------------------------------------------- after an archive

def test_a_chain_left_after_an_archive_starts_at_the_archives_anchor():
    records = chain(6)
    rest = records[3:]  # 1..3 archived: the chain continues at 4, linking to the hash of 3
    anchor = records[2].hash
    assert check_chain(crypto.sm3, rest, 6, records[-1].hash, start_seq=4, start_hash=anchor) == []
    # Without the anchor the same records look like a deleted beginning.
    assert [(p.seq, p.kind) for p in check_chain(crypto.sm3, rest, 6, records[-1].hash)] == [(1, "deleted")]
    # Everything archived, nothing new: the head is the anchor itself.
    assert check_chain(crypto.sm3, [], 3, anchor, start_seq=4, start_hash=anchor) == []


def test_a_deletion_just_after_the_archive_and_a_wrong_anchor_are_named():
    records = chain(6)
    problems = check_chain(crypto.sm3, records[4:], 6, records[-1].hash, start_seq=4,
                           start_hash=records[2].hash)
    assert [(p.seq, p.kind) for p in problems] == [(4, "deleted")]
    problems = check_chain(crypto.sm3, records[3:], 6, records[-1].hash, start_seq=4, start_hash=GENESIS)
    assert [(p.seq, p.kind) for p in problems] == [(4, "inserted")]


def test_a_record_still_present_below_the_archive_is_named():
    records = chain(4)
    problems = check_chain(crypto.sm3, records[1:], 4, records[-1].hash, start_seq=3,
                           start_hash=records[1].hash)
    assert [(p.seq, p.kind) for p in problems] == [(2, "inserted")]
    assert "已归档" in problems[0].message


def test_archives_must_cover_the_beginning_without_gap_or_overlap():
    assert check_archives([ArchiveRange(1, 10, 10), ArchiveRange(11, 15, 5)]) == []
    assert check_archives([]) == []
    gap = check_archives([ArchiveRange(11, 15, 5)])
    assert [(p.seq, p.kind) for p in gap] == [(1, "archive")] and "第 1 至 10 条" in gap[0].message
    overlap = check_archives([ArchiveRange(1, 10, 10), ArchiveRange(8, 12, 5)])
    assert [(p.seq, p.kind) for p in overlap] == [(8, "archive")]
    miscounted = check_archives([ArchiveRange(1, 10, 9)])
    assert [(p.seq, p.kind) for p in miscounted] == [(1, "archive")]


def test_retention_cutoff_is_a_beijing_midnight_180_days_back_and_before_only_narrows_it():
    now = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)  # 09:00 on 22 Nov in Beijing
    cutoff = archive_cutoff(now, 180)
    assert cutoff == datetime(2026, 5, 25, 16, 0, tzinfo=UTC)  # 26 May 00:00 Beijing
    assert now - cutoff >= timedelta(days=180)
    assert archive_cutoff(now, 180, datetime(2026, 1, 1, tzinfo=UTC)) == datetime(2026, 1, 1, tzinfo=UTC)
    assert archive_cutoff(now, 180, now) == cutoff  # a later `before` cannot shorten retention
    late_evening = datetime(2026, 11, 22, 17, 0, tzinfo=UTC)  # already 23 Nov in Beijing
    assert archive_cutoff(late_evening, 365) == datetime(2025, 11, 22, 16, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        archive_cutoff(now, 179)


def test_an_archived_line_reads_back_as_the_same_record():
    r = chain(1)[0]
    row = {"seq": r.seq, "occurred_at": r.occurred_at, "prev_hash": r.prev_hash, "hash": r.hash,
           "row_mac": "int1$00", **vars(r.fields)}
    line = archive_line(row)
    assert line["occurred_at"] == "2026-11-22T08:30:00.123456Z" and line["row_mac"] == "int1$00"
    assert record_from_line(line) == r


def test_search_filters_are_normalised_and_checked_in_one_place():
    f = AuditFilter.of(actor=" teller01 ", action="", target=None)
    assert (f.actor, f.action, f.target) == ("teller01", None, None)
    with pytest.raises(ValidationFailed) as bad:
        AuditFilter.of(result="ok", since=datetime(2026, 1, 2))
    assert set(bad.value.details) == {"result", "since"}
    with pytest.raises(ValidationFailed) as bad:
        AuditFilter.of(since=datetime(2026, 1, 2, tzinfo=UTC), until=datetime(2026, 1, 1, tzinfo=UTC))
    assert set(bad.value.details) == {"until"}


def test_formula_cells_are_neutralised():
    from hpf.services.audit_export import guard_formula

    for text in ("=1+1", "+86", "-2", "@SUM(A1)", "\tx"):
        assert guard_formula(text) == "'" + text
    assert guard_formula("auth.login") == "auth.login" and guard_formula("") == ""


def test_a_role_is_hashed_only_when_present_so_older_records_still_verify():
    from datetime import UTC, datetime

    from hpf.domain.audit import AuditFields, canonical

    when = datetime(2026, 11, 1, tzinfo=UTC)
    plain = AuditFields(actor="teller01", action="auth.login", result="success")
    assert canonical(1, when, plain).count(b"\x1f") == 9  # the ten fields of the first release
    with_role = AuditFields(actor="teller01", action="auth.login", result="success", role="teller")
    assert canonical(1, when, with_role) == canonical(1, when, plain) + b"\x1fteller"
