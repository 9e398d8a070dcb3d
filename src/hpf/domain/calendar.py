"""Business dates: calendar days in Asia/Shanghai; timestamps are aware UTC.

Never ``date.today()`` in rules: the caller passes the instant, so a rule for a past date
is computed with that date (the T-1 bugs in FINERACT-1394/723 are what this prevents).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

BUSINESS_TZ = ZoneInfo("Asia/Shanghai")


def business_date(at: datetime) -> date:
    """The business date of an instant: its calendar date in Asia/Shanghai."""
    if at.tzinfo is None:
        raise ValueError("business_date needs a timezone-aware datetime")
    return at.astimezone(BUSINESS_TZ).date()


def start_of_business_day(day: date) -> datetime:
    """00:00 Asia/Shanghai of ``day``, in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=BUSINESS_TZ).astimezone(UTC)
