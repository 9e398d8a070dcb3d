from datetime import UTC, datetime, timedelta

from hpf.domain.jobs import RunRecord, decide_start

NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
STALE = timedelta(hours=6)


def rec(id_, attempt, status, minutes_ago):
    return RunRecord(id_, attempt, status, NOW - timedelta(minutes=minutes_ago))


def test_first_run_is_attempt_one():
    assert decide_start([], NOW, STALE) == decide_start([], NOW, STALE)
    d = decide_start([], NOW, STALE)
    assert (d.action, d.attempt) == ("start", 1)


def test_a_succeeded_run_is_not_repeated():
    d = decide_start([rec(7, 1, "succeeded", 30)], NOW, STALE)
    assert (d.action, d.existing_id) == ("done", 7)


def test_rerun_starts_the_next_attempt_after_success():
    d = decide_start([rec(7, 1, "succeeded", 30)], NOW, STALE, rerun=True)
    assert (d.action, d.attempt) == ("start", 2)


def test_a_failed_run_may_be_retried():
    d = decide_start([rec(1, 1, "failed", 30), rec(2, 2, "failed", 10)], NOW, STALE)
    assert (d.action, d.attempt, d.abandon) == ("start", 3, ())


def test_a_live_run_blocks_a_second_one():
    d = decide_start([rec(3, 1, "running", 5)], NOW, STALE)
    assert (d.action, d.existing_id) == ("busy", 3)


def test_a_stale_run_is_abandoned_and_retried():
    d = decide_start([rec(3, 1, "running", 7 * 60)], NOW, STALE)
    assert (d.action, d.attempt, d.abandon) == ("start", 2, (3,))
