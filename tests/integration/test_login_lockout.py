"""Five wrong passwords lock a username for thirty minutes, on every database; an unknown
username behaves the same; every attempt and the lock are in the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from hpf.domain.lockout import LockoutPolicy
from hpf.repositories.models import AuditEvent, LoginThrottle
from hpf.repositories.uow import UnitOfWork
from hpf.services import auth
from hpf.services.auth import AccountLocked, BadCredentials
from hpf.services.demo import load_demo_centre

T0 = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
POLICY = LockoutPolicy(5, 30)


@pytest.fixture
def centre(database):
    load_demo_centre(UnitOfWork(database))
    clear_throttle(database)  # other tests may have left failures behind
    yield database
    clear_throttle(database)


def clear_throttle(database):
    with database.engine.begin() as conn:
        conn.execute(LoginThrottle.__table__.delete())


def attempt(database, username, password, now):
    try:
        auth.authenticate(UnitOfWork(database), username, password, now, policy=POLICY)
    except (BadCredentials, AccountLocked) as exc:
        return type(exc).__name__, exc.message
    return "ok", ""


@pytest.mark.parametrize("username", ["teller01", "no-such-user"])
def test_five_failures_lock_for_thirty_minutes(centre, username):
    for minute in range(4):
        assert attempt(centre, username, "wrong", T0 + timedelta(minutes=minute))[0] == "BadCredentials"
    kind, message = attempt(centre, username, "wrong", T0 + timedelta(minutes=4))
    assert (kind, message) == ("AccountLocked", "连续登录失败次数过多，账户已锁定，请于 09:34 后再试")
    # Locked: even the right password is refused, with the same words for a known or unknown name.
    assert attempt(centre, username, "Demo@2026", T0 + timedelta(minutes=20))[0] == "AccountLocked"
    after = T0 + timedelta(minutes=35)
    if username == "teller01":
        assert attempt(centre, username, "Demo@2026", after)[0] == "ok"  # the lock ran out
        with centre.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(LoginThrottle.__table__)
                                .where(LoginThrottle.username == username)).scalar_one() == 0
    else:
        assert attempt(centre, username, "Demo@2026", after)[0] == "BadCredentials"


def test_a_success_resets_the_count(centre):
    for minute in range(4):
        attempt(centre, "teller02", "wrong", T0 + timedelta(minutes=minute))
    assert attempt(centre, "teller02", "Demo@2026", T0 + timedelta(minutes=5))[0] == "ok"
    for minute in range(4):
        later = T0 + timedelta(minutes=10 + minute)
        assert attempt(centre, "teller02", "wrong", later)[0] == "BadCredentials"


def test_attempts_and_the_lock_are_audited(centre):
    with centre.engine.connect() as conn:
        start = conn.execute(sa.select(sa.func.coalesce(sa.func.max(AuditEvent.seq), 0))).scalar_one()
    for minute in range(5):
        attempt(centre, "teller03", "wrong", T0 + timedelta(minutes=minute))
    with centre.engine.connect() as conn:
        rows = conn.execute(sa.select(AuditEvent.action, AuditEvent.result, AuditEvent.summary)
                            .where(AuditEvent.seq > start).order_by(AuditEvent.seq)).all()
    expected = [("auth.login", "failure")] * 5 + [("auth.lock", "success")]
    assert [(r.action, r.result) for r in rows] == expected
    assert rows[-1].summary.startswith("until=")
