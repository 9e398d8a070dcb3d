"""Rules of batch-job runs: when a run may start, and which attempt it is.

A run is identified by (job, run key); the key is the business date for daily jobs and the
scheduled fire time for frequent ones. A succeeded run is never repeated by accident (the
duplicate interest postings of FINERACT-1659 are the bug this prevents); a failed or
abandoned one may be retried as the next attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

# The lease a scheduler process must hold to fire jobs (a row in hpf_lock).
SCHEDULER_LEASE = "scheduler"


@dataclass(frozen=True)
class RunRecord:
    id: int
    attempt: int
    status: str  # running | succeeded | failed | abandoned
    started_at: datetime


@dataclass(frozen=True)
class StartDecision:
    action: str  # "start" | "done" | "busy"
    attempt: int = 0
    existing_id: int | None = None
    abandon: tuple[int, ...] = ()  # ids of stale running attempts to mark abandoned


def decide_start(history: Sequence[RunRecord], now: datetime, stale_after: timedelta,
                 *, rerun: bool = False) -> StartDecision:
    """Whether a new attempt may start, given the earlier attempts of the same run."""
    done = [r for r in history if r.status == "succeeded"]
    if done and not rerun:
        return StartDecision("done", existing_id=done[-1].id)
    running = [r for r in history if r.status == "running"]
    live = [r for r in running if now - r.started_at < stale_after]
    if live:
        return StartDecision("busy", existing_id=live[-1].id)
    last = max((r.attempt for r in history), default=0)
    return StartDecision("start", attempt=last + 1, abandon=tuple(r.id for r in running))
