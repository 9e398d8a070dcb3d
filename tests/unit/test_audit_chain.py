"""The audit hash chain's rules, with worked records (pure: no database)."""

from datetime import UTC, datetime

from hpf import crypto
from hpf.domain.audit import GENESIS, AuditFields, StoredRecord, canonical, check_chain, link

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
