"""The audit trail on every database: records chained and sealed, SM2 checkpoints, and
`verify` naming a record modified, deleted or inserted behind the application's back."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from hpf import crypto
from hpf.crypto import integrity, keys
from hpf.domain.audit import GENESIS, AuditFields, link
from hpf.repositories.models import AuditChain, AuditCheckpoint, AuditEvent
from hpf.services import audit

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
WHO = audit.Who(actor="teller01", org_code="001001", ip="10.1.2.3", request_id="req-1")


@pytest.fixture
def trail(database):
    reset(database)
    yield database
    reset(database)


def reset(database) -> None:
    ring = keys.for_engine(database.engine)
    ring.refresh_if_stale()
    head = {"id": 1, "last_seq": 0, "last_hash": GENESIS}
    mac = integrity.compute(ring.active("integrity"), "audit_chain", AuditChain.__integrity__, head)
    with database.engine.begin() as conn:
        conn.execute(AuditCheckpoint.__table__.delete())
        conn.execute(AuditEvent.__table__.delete())
        conn.execute(AuditChain.__table__.update().where(AuditChain.id == 1)
                     .values(last_seq=0, last_hash=GENESIS, row_mac=mac))


def record_some(database, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        audit.record_now(database, WHO, "param.value.add", target=f"param:p{i}",
                         summary=f"value={i} 手机13812345678", now=T0 + timedelta(minutes=i))


def sql(database, statement: str, **params) -> None:
    with database.engine.begin() as conn:
        conn.execute(sa.text(statement), params)


def kinds(report) -> list[tuple[int | None, str]]:
    return [(p.seq, p.kind) for p in report.problems]


def test_records_chain_and_verify(trail):
    record_some(trail, 5)
    assert audit.checkpoint(trail)["seq"] == 5
    assert audit.checkpoint(trail) is None  # nothing new to sign
    record_some(trail, 2, start=5)
    report = audit.verify(trail)
    assert report.ok and (report.records, report.head_seq, report.checkpoints) == (7, 7, 1)
    with trail.engine.connect() as conn:
        rows = conn.execute(sa.select(AuditEvent.seq, AuditEvent.prev_hash, AuditEvent.hash,
                                      AuditEvent.summary).order_by(AuditEvent.seq)).all()
    assert rows[0].prev_hash == GENESIS and all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    assert "13812345678" not in rows[0].summary and "138****5678" in rows[0].summary  # masked


def test_a_record_modified_in_sql_is_named(trail):
    record_some(trail, 4)
    sql(trail, "UPDATE audit_event SET actor = 'nobody' WHERE seq = 2")
    report = audit.verify(trail)
    assert (2, "modified") in kinds(report) and all(seq == 2 for seq, _ in kinds(report))


def test_a_record_deleted_in_sql_is_named(trail):
    record_some(trail, 4)
    sql(trail, "DELETE FROM audit_event WHERE seq = 3")
    assert kinds(audit.verify(trail)) == [(3, "deleted")]


def test_the_tail_deleted_is_named(trail):
    record_some(trail, 4)
    sql(trail, "DELETE FROM audit_event WHERE seq = 4")
    assert kinds(audit.verify(trail)) == [(4, "truncated")]


def test_a_record_inserted_out_of_band_is_named(trail):
    record_some(trail, 3)
    with trail.engine.connect() as conn:
        last = conn.execute(sa.select(AuditEvent.hash).where(AuditEvent.seq == 3)).scalar_one()
    fields = AuditFields(actor="ghost", action="auth.login", result="success")
    forged = link(crypto.sm3, last, 4, T0, fields)  # SM3 is public: the chain alone can be extended
    with trail.engine.begin() as conn:
        conn.execute(AuditEvent.__table__.insert().values(
            seq=4, occurred_at=T0, actor="ghost", org_code="", ip="", action="auth.login", target="",
            result="success", summary="", request_id="", prev_hash=last, hash=forged, row_mac=None))
    report = audit.verify(trail)
    assert (4, "modified") in kinds(report)  # no MAC: the keyed seal is what an insider lacks
    assert (4, "inserted") in kinds(report)  # and the sealed head does not know record 4


def test_a_consistent_rewrite_is_caught_by_the_signed_checkpoint(trail):
    record_some(trail, 4)
    audit.checkpoint(trail)
    # An insider rewrites record 2 and recomputes every SM3 hash after it, and the head.
    with trail.engine.begin() as conn:
        rows = conn.execute(sa.select(AuditEvent.__table__).order_by(AuditEvent.seq)).mappings().all()
        prev = GENESIS
        for row in rows:
            fields = AuditFields(actor="nobody" if row["seq"] == 2 else row["actor"], action=row["action"],
                                 result=row["result"], target=row["target"], org_code=row["org_code"],
                                 ip=row["ip"], summary=row["summary"], request_id=row["request_id"])
            digest = link(crypto.sm3, prev, row["seq"], row["occurred_at"], fields)
            conn.execute(AuditEvent.__table__.update().where(AuditEvent.seq == row["seq"])
                         .values(actor=fields.actor, prev_hash=prev, hash=digest))
            prev = digest
        conn.execute(AuditChain.__table__.update().values(last_hash=prev))
    report = audit.verify(trail)
    assert (4, "checkpoint") in kinds(report)
    assert {seq for seq, kind in kinds(report) if kind == "modified"} >= {2, 3, 4}  # keyed MACs


def test_a_forged_checkpoint_signature_is_named(trail):
    record_some(trail, 2)
    audit.checkpoint(trail)
    forger = crypto.SM2PrivateKey.generate()
    with trail.engine.begin() as conn:
        conn.execute(AuditCheckpoint.__table__.update().values(signature=forger.sign(b"x").hex()))
    assert kinds(audit.verify(trail)) == [(2, "checkpoint")]


def test_business_calls_and_logins_are_recorded(trail, tmp_path):
    from hpf.repositories.uow import UnitOfWork
    from hpf.services import auth, params
    from hpf.services.auth import BadCredentials
    from hpf.services.demo import load_demo_centre

    load_demo_centre(UnitOfWork(trail))
    user = auth.authenticate(UnitOfWork(trail), "teller01", "Demo@2026", T0, WHO)
    with pytest.raises(BadCredentials):
        auth.authenticate(UnitOfWork(trail), "teller01", "wrong", T0, WHO)
    with pytest.raises(BadCredentials):
        auth.authenticate(UnitOfWork(trail), "nobody", "wrong", T0, WHO)
    cmd = params.NewParamValue("job.history_retention_days", "420", T0.date() + timedelta(days=400),
                               "审计测试", "teller01")
    params.add_value(UnitOfWork(trail), cmd, T0.date(), WHO)
    auth.logout(UnitOfWork(trail), user, WHO, T0)
    with trail.engine.connect() as conn:
        rows = conn.execute(sa.select(AuditEvent.actor, AuditEvent.action, AuditEvent.result, AuditEvent.ip,
                                      AuditEvent.org_code).order_by(AuditEvent.seq)).all()
    assert [tuple(r) for r in rows] == [
        ("teller01", "auth.login", "success", "10.1.2.3", "001001"),
        ("teller01", "auth.login", "failure", "10.1.2.3", "001001"),
        ("nobody", "auth.login", "failure", "10.1.2.3", "001001"),
        ("teller01", "param.value.add", "success", "10.1.2.3", "001001"),
        ("teller01", "auth.logout", "success", "10.1.2.3", "001001"),
    ]
    assert audit.verify(trail).ok
    sql(trail, "DELETE FROM param_value WHERE source = '审计测试'")
    sql(trail, "DELETE FROM login_throttle")
