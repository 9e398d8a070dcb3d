"""The bank port: credits (到账) into the centre's account, read in order behind a cursor."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class BankCredit:
    """One credit as the bank reports it; ``reference`` is the payer's 附言."""

    bank_ref: str  # the bank's transaction serial, unique per bank
    payer_account: str
    payer_name: str
    amount: Decimal
    value_date: date  # 起息日 as the bank books it
    reference: str
    received_at: datetime  # UTC


class BankAdapter(ABC):
    """A settlement channel. Implementations: the simulator now, bank files or APIs later."""

    @property
    @abstractmethod
    def name(self) -> str:
        """A short name for logs and the doctor, e.g. "simulator"."""

    @abstractmethod
    def credits_since(self, cursor: str | None) -> tuple[list[BankCredit], str]:
        """Credits received after ``cursor`` (None: from the beginning) and the new cursor.

        The cursor is opaque to callers: store it and hand it back. A credit is returned
        once per cursor chain; a caller that restarts from None gets everything again and
        must skip the ``bank_ref`` values it already holds.
        """
