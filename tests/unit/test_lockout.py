from datetime import UTC, datetime, timedelta

from hpf.domain.lockout import LockoutPolicy, Throttle

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
POLICY = LockoutPolicy(threshold=5, minutes=30)


def test_the_fifth_consecutive_failure_locks_for_thirty_minutes():
    t = Throttle()
    for n in range(1, 5):
        t = t.after_failure(NOW, POLICY)
        assert (t.failures, t.locked_until) == (n, None) and not t.locked(NOW)
    t = t.after_failure(NOW, POLICY)
    assert t.locked_until == NOW + timedelta(minutes=30)
    assert t.locked(NOW + timedelta(minutes=29, seconds=59)) and not t.locked(NOW + timedelta(minutes=30))


def test_a_lock_that_ran_out_starts_a_fresh_count():
    locked = Throttle(5, NOW + timedelta(minutes=30))
    later = NOW + timedelta(minutes=31)
    assert locked.after_failure(later, POLICY) == Throttle(1, None)
    assert Throttle(5, NOW + timedelta(minutes=30)).after_failure(NOW, POLICY).failures == 6  # still locked
