"""Login failure handling (登录失败处理): count consecutive failures per username, lock.

Pure rules; the service stores the counters. Counted per username whether or not the
account exists, so a lock message tells an attacker nothing about who has an account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class LockoutPolicy:
    threshold: int = 5
    minutes: int = 30


@dataclass(frozen=True)
class Throttle:
    failures: int = 0
    locked_until: datetime | None = None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def after_failure(self, now: datetime, policy: LockoutPolicy) -> Throttle:
        """One more failure; the threshold-th consecutive one locks for ``policy.minutes``.
        A lock that has run out starts a fresh count."""
        failures = 1 if self.locked_until is not None and not self.locked(now) else self.failures + 1
        if failures >= policy.threshold:
            return Throttle(failures, now + timedelta(minutes=policy.minutes))
        return Throttle(failures, None)
