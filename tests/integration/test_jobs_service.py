"""Job runs: once per key, retries as new attempts, concurrent starts resolved by the key."""

import threading
import time
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from hpf.jobs.registry import JobOutcome, JobRegistry
from hpf.repositories.models import JobRun
from hpf.services import jobs

DAY = date(2026, 6, 30)


@pytest.fixture
def registry():
    reg = JobRegistry()
    calls = {"n": 0, "fail": False}

    @reg.job("test.count", "计数作业")
    def count(ctx):
        calls["n"] += 1
        time.sleep(0.2)
        if calls["fail"]:
            raise RuntimeError("银行文件未到")
        return JobOutcome({"accounts": 3})

    reg.calls = calls
    return reg


@pytest.fixture(autouse=True)
def clean_runs(database):
    with database.engine.begin() as conn:
        conn.execute(sa.delete(JobRun.__table__))
    yield


def test_a_day_runs_once(database, registry):
    first = jobs.run_job(database, registry, "test.count", DAY)
    assert (first.status, first.counts) == ("succeeded", {"accounts": 3})
    second = jobs.run_job(database, registry, "test.count", DAY)
    assert second.status == "skipped" and second.run_id == first.run_id
    assert registry.calls["n"] == 1
    again = jobs.run_job(database, registry, "test.count", DAY, rerun=True)
    assert again.status == "succeeded" and registry.calls["n"] == 2
    attempts = [r.attempt for r in jobs.history(database, "test.count")]
    assert attempts == [2, 1]


def test_failures_are_recorded_and_retried(database, registry):
    registry.calls["fail"] = True
    failed = jobs.run_job(database, registry, "test.count", DAY)
    assert failed.status == "failed" and "银行文件未到" in failed.message
    registry.calls["fail"] = False
    retried = jobs.run_job(database, registry, "test.count", DAY)
    assert retried.status == "succeeded"
    runs = jobs.history(database, "test.count")
    assert [(r.attempt, r.status) for r in runs] == [(2, "succeeded"), (1, "failed")]
    assert runs[1].error == "RuntimeError: 银行文件未到" and runs[0].counts == {"accounts": 3}


def test_concurrent_starts_run_the_job_once(database, registry):
    results = []
    barrier = threading.Barrier(4)

    def start():
        barrier.wait(10)
        results.append(jobs.run_job(database, registry, "test.count", DAY).status)

    threads = [threading.Thread(target=start) for _ in range(4)]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    assert sorted(results) == ["skipped", "skipped", "skipped", "succeeded"]
    assert registry.calls["n"] == 1


def test_purge_job_history_job(database):
    from hpf.jobs import load_jobs

    registry = load_jobs()
    with database.engine.begin() as conn:
        conn.execute(JobRun.__table__.insert(), [{
            "job_name": "old", "run_key": "k", "attempt": 1, "business_date": date(2020, 1, 1),
            "trigger_kind": "manual", "status": "succeeded", "host": "h", "pid": 1,
            "started_at": datetime(2020, 1, 1, tzinfo=UTC)}])
    result = jobs.run_job(database, registry, "system.purge_job_history", DAY)
    assert result.status == "succeeded" and result.counts == {"deleted": 1}
    assert [r.job_name for r in jobs.history(database)] == ["system.purge_job_history"]


def test_unknown_job_lists_the_known_ones(database, registry):
    from hpf.domain.errors import NotFound

    with pytest.raises(NotFound, match=r"test\.count"):
        jobs.run_job(database, registry, "test.nope", DAY)
