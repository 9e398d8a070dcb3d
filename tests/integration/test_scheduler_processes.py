"""Two real `hpf scheduler` processes on one database: each run happens exactly once.

A heartbeat job fires every second in both processes; only the lease holder runs it, and
job_run's unique key would refuse a duplicate anyway. The leader is then killed (SIGKILL,
no goodbye): the other process takes the lease when it expires and carries on.
"""

import itertools
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from hpf.repositories.models import JobRun
from tests.conftest import TEST_KEK

pytestmark = pytest.mark.slow
TTL = 3


def start(config, env, log):
    return subprocess.Popen([sys.executable, "-m", "hpf", "--config", str(config), "scheduler"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)


def clear_runs_and_leases(database):
    lock_table = database.adapter.support.lock  # detect outside the transaction (SQLite)
    with database.engine.begin() as conn:
        conn.execute(sa.delete(JobRun.__table__))
        conn.execute(sa.delete(lock_table))


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_two_schedulers_run_each_fire_once_and_fail_over(database, tmp_path):
    clear_runs_and_leases(database)
    config = tmp_path / "hpf.conf"
    config.write_text(f"[scheduler]\nlease_ttl = {TTL}\n[jobs]\nsystem.heartbeat = * * * * * *\n"
                      "system.purge_job_history = off\n[log]\nformat = json\n", encoding="utf-8")
    env = {**os.environ, "HPF_DATABASE_URL": database.resolved.raw, "HPF_CRYPTO_KEK": TEST_KEK,
           "HPF_INSTANCE_PATH": str(tmp_path / "instance")}
    logs = [open(tmp_path / f"scheduler{i}.log", "w") for i in (1, 2)]  # noqa: SIM115
    procs = [start(config, env, logs[0])]
    try:
        holder = wait_for(lambda: database.adapter.lease_holder("scheduler"), 20, "a leader")
        procs.append(start(config, env, logs[1]))
        wait_for(lambda: "scheduler started" in (tmp_path / "scheduler2.log").read_text(), 30,
                 "the standby to start")
        time.sleep(6)
        leader_pid = int(holder[0].split(":")[1])
        leader = next(p for p in procs if p.pid == leader_pid)
        other = next(p for p in procs if p.pid != leader_pid)
        os.kill(leader.pid, signal.SIGKILL)
        leader.wait(10)
        wait_for(lambda: (database.adapter.lease_holder("scheduler") or ("",))[0]
                 .split(":")[1:2] == [str(other.pid)], TTL * 4, "the standby to take over")
        time.sleep(5)
        other.send_signal(signal.SIGTERM)
        assert other.wait(20) == 0  # a clean stop; it hands the lease back
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        for log in logs:
            log.close()

    with database.engine.connect() as conn:
        rows = conn.execute(sa.select(JobRun.run_key, JobRun.pid, JobRun.status, JobRun.attempt)
                            .where(JobRun.job_name == "system.heartbeat")
                            .order_by(JobRun.run_key)).all()
    keys = [r.run_key for r in rows]
    assert len(keys) == len(set(keys)), "a fire time ran twice"
    assert {r.status for r in rows} == {"succeeded"} and {r.attempt for r in rows} == {1}
    pids = [r.pid for r in rows]
    assert set(pids) == {leader_pid, other.pid}, "both processes should have led in turn"
    switch = pids.index(other.pid)
    assert set(pids[:switch]) == {leader_pid} and set(pids[switch:]) == {other.pid}
    # No second was skipped while a leader held the lease; the hand-over gap is bounded.
    times = [datetime.strptime(k, "%Y-%m-%dT%H:%M:%SZ") for k in keys]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps[:switch - 1] + gaps[switch:]) <= timedelta(seconds=2)
    assert gaps[switch - 1] <= timedelta(seconds=TTL + 3)
    assert not database.adapter.lease_holder("scheduler")


def test_a_restarted_scheduler_catches_up_the_missed_daily_run(database, tmp_path):
    """The purge job was due at 00:00 today; a scheduler started later still runs it once."""
    clear_runs_and_leases(database)
    config = tmp_path / "hpf.conf"
    config.write_text("[jobs]\nsystem.heartbeat = off\nsystem.purge_job_history = 0 0 * * *\n",
                      encoding="utf-8")
    env = {**os.environ, "HPF_DATABASE_URL": database.resolved.raw, "HPF_CRYPTO_KEK": TEST_KEK,
           "HPF_INSTANCE_PATH": str(tmp_path / "instance")}

    def purge_runs():
        with database.engine.connect() as conn:
            return conn.execute(sa.select(JobRun.business_date, JobRun.status, JobRun.trigger_kind)
                                .where(JobRun.job_name == "system.purge_job_history")).all()

    for attempt in range(2):  # the second start finds the run done and adds nothing
        with open(tmp_path / f"catchup{attempt}.log", "w") as log:
            proc = start(config, env, log)
            try:
                # Started (signal handlers in place, after the crypto self-test), then done.
                started = tmp_path / f"catchup{attempt}.log"
                wait_for(lambda: "scheduler started" in started.read_text(), 30,  # noqa: B023
                         "the scheduler to start")
                wait_for(lambda: purge_runs() and purge_runs()[0].status != "running", 20,
                         "the caught-up run")
                time.sleep(1.5 if attempt else 0)
            finally:
                proc.send_signal(signal.SIGTERM)
                assert proc.wait(20) == 0
    runs = purge_runs()
    assert len(runs) == 1 and runs[0].status == "succeeded" and runs[0].trigger_kind == "scheduled"
