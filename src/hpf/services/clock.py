"""The current instant, injectable so that tests and batch re-runs can fix it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hpf.domain.calendar import business_date


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        """Today's business date (Asia/Shanghai)."""
        return business_date(self.now())


class FixedClock(Clock):
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at
