"""``hpf scheduler``: APScheduler in its own process, firing only while it holds the lease.

Any number of scheduler processes may run against one database (for failover); they
compete for the lease ``scheduler`` in hpf_lock and only the holder fires jobs. A fired run
is also claimed through job_run's unique key, so even a lease hand-over in the middle of a
fire cannot run the same (job, key) twice. Never started inside gunicorn workers.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.executors.base import run_job as apscheduler_run_job
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from hpf.config import Settings
from hpf.domain.calendar import business_date
from hpf.domain.jobs import SCHEDULER_LEASE
from hpf.jobs.registry import JobRegistry, JobSpec
from hpf.jobs.schedule import parse_cron, schedules
from hpf.services.jobs import JobRunResult, run_job
from hpf_adapters.db import Database

log = logging.getLogger("hpf.scheduler")
LEASE_NAME = SCHEDULER_LEASE
CATCH_UP_WINDOW = timedelta(hours=24)
_fire = threading.local()


def previous_fire_time(trigger: CronTrigger, now: datetime,
                       window: timedelta) -> datetime | None:
    """The trigger's last fire time in (now - window, now], if any."""
    last, probe = None, trigger.get_next_fire_time(None, now - window)
    while probe is not None and probe <= now:
        last = probe
        probe = trigger.get_next_fire_time(probe, probe + timedelta(seconds=1))
    return last


class LeaderLease:
    """Keeps (or waits for) the scheduler lease in a background thread."""

    def __init__(self, database: Database, ttl: int,
                 on_acquired: Callable[[], None] | None = None) -> None:
        self.database = database
        self.ttl = ttl
        self.on_acquired = on_acquired
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._valid_until = 0.0  # monotonic; we act as leader only before this instant
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="hpf-lease", daemon=True)

    def is_leader(self) -> bool:
        return time.monotonic() < self._valid_until

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        if self._valid_until:
            self._valid_until = 0.0
            self.database.adapter.release_lease(LEASE_NAME, self.holder)

    def _loop(self) -> None:
        was_leader = False
        while not self._stop.is_set():
            asked = time.monotonic()
            try:
                got = self.database.adapter.acquire_lease(LEASE_NAME, self.holder, self.ttl)
            except Exception:
                log.exception("lease renewal failed")
                got = False
            # Count validity from before the request: the database's expiry is later still.
            self._valid_until = asked + self.ttl - 1 if got else 0.0
            if got != was_leader:
                log.info("scheduler lease %s", "acquired" if got else "lost",
                         extra={"holder": self.holder})
                was_leader = got
                if got and self.on_acquired:
                    self.on_acquired()
            self._stop.wait(max(1.0, self.ttl / 3))


class _FireTimeExecutor(ThreadPoolExecutor):
    """Passes APScheduler's scheduled fire time to the job (it becomes the run key)."""

    def _do_submit_job(self, job, run_times):
        def call(job, alias, times, logger_name):
            _fire.at = times[-1]
            return apscheduler_run_job(job, alias, times, logger_name)

        def done(f):
            exc = f.exception()
            if exc:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, f.result())

        self._pool.submit(call, job, job._jobstore_alias, run_times, self._logger.name
                          ).add_done_callback(done)


class SchedulerService:
    def __init__(self, settings: Settings, database: Database, registry: JobRegistry) -> None:
        self.settings = settings
        self.database = database
        self.registry = registry
        self.tz = ZoneInfo(settings.scheduler.timezone)
        self.lease = LeaderLease(database, settings.scheduler.lease_ttl, self.catch_up)
        self.triggers: dict[str, CronTrigger] = {}
        self.scheduler = BlockingScheduler(
            timezone=self.tz,
            executors={"default": _FireTimeExecutor(settings.scheduler.max_workers)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        )
        for name, expr in schedules(settings, registry).items():
            self.triggers[name] = parse_cron(expr, self.tz)
            self.scheduler.add_job(self.fire, self.triggers[name], args=[name], id=name,
                                   name=registry.get(name).title)

    def fire(self, name: str) -> None:
        """APScheduler's entry point: run ``name`` for this fire time if we lead."""
        if self.lease.is_leader():
            self.run_scheduled(name, getattr(_fire, "at", None) or datetime.now(UTC))

    def run_scheduled(self, name: str, at: datetime) -> JobRunResult:
        spec: JobSpec = self.registry.get(name)
        key = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if spec.per_fire else None
        result = run_job(self.database, self.registry, name, business_date(at),
                         trigger="scheduled", run_key=key, settings=self.settings)
        log.info("scheduled run %s", result.status,
                 extra={"job": name, "run_key": result.run_key, "run_id": result.run_id})
        return result

    def catch_up(self, now: datetime | None = None) -> None:
        """On taking the lease: run each daily job's latest fire time of the past 24 hours.

        A fire that fell while no process led (a restart at 02:35 for a 02:30 job, or a
        hand-over) is not lost; one that already ran is skipped by its run key. Runs go to
        the executor so that the lease thread keeps renewing.
        """
        now = now or datetime.now(UTC)
        for name, trigger in self.triggers.items():
            if self.registry.get(name).per_fire:
                continue  # frequent jobs simply fire again shortly
            last = previous_fire_time(trigger, now, CATCH_UP_WINDOW)
            if last is not None:
                self.scheduler.add_job(self.run_scheduled, "date", args=[name, last],
                                       id=f"catch-up:{name}", replace_existing=True,
                                       misfire_grace_time=None)

    def run(self) -> None:
        """Block until SIGTERM/SIGINT; then stop firing and hand the lease back."""
        def stop(signum, _frame):
            log.info("scheduler stopping", extra={"signal": signum})
            self.scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        # APScheduler logs every execution at INFO, in standby processes too; our own
        # "scheduled run" line (leader only, with run id) is the one operators need.
        logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
        self.lease.start()
        log.info("scheduler started", extra={"holder": self.lease.holder,
                                              "jobs": [j.id for j in self.scheduler.get_jobs()]})
        try:
            self.scheduler.start()
        finally:
            self.lease.stop()
            log.info("scheduler stopped", extra={"holder": self.lease.holder})
