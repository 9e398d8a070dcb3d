"""The job registry and the context a job runs with."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from hpf.config import Settings
from hpf.domain.errors import NotFound
from hpf_adapters.db import Database


@dataclass(frozen=True)
class JobOutcome:
    counts: dict[str, int] = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True)
class JobContext:
    database: Database
    business_date: date
    run_id: int
    trigger: str  # manual | scheduled
    logger: logging.Logger
    settings: Settings | None = None  # the configuration the scheduler or CLI runs with


@dataclass(frozen=True)
class JobSpec:
    name: str            # dotted, stable: used in config, history and the CLI
    title: str           # Chinese, for people
    func: Callable[[JobContext], JobOutcome]
    schedule: str | None = None   # default cron (5 fields, or 6 with seconds first)
    per_fire: bool = False        # run key = fire time (frequent jobs) instead of the date
    stale_after: timedelta = timedelta(hours=6)  # a "running" row older than this is dead
    description: str = ""


class JobRegistry:
    def __init__(self) -> None:
        self._jobs: dict[str, JobSpec] = {}

    def job(self, name: str, title: str, *, schedule: str | None = None,
            per_fire: bool = False, description: str = ""):
        """Decorator: register ``func`` as the job ``name``."""
        def register(func: Callable[[JobContext], JobOutcome]):
            if name in self._jobs and self._jobs[name].func is not func:
                raise ValueError(f"job {name} registered twice")
            self._jobs[name] = JobSpec(name, title, func, schedule, per_fire,
                                       description=description or inspect.cleandoc(func.__doc__ or ""))
            return func
        return register

    def get(self, name: str) -> JobSpec:
        if name not in self._jobs:
            raise NotFound(f"未知的作业 {name}；可用作业: {', '.join(self.names())}",
                           code="unknown_job")
        return self._jobs[name]

    def names(self) -> list[str]:
        return sorted(self._jobs)

    def all(self) -> list[JobSpec]:
        return [self._jobs[n] for n in self.names()]


REGISTRY = JobRegistry()

