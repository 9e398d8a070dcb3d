"""Bank settlement adapters: credits (到账) into the centre's account.

``create(kind, **options)`` builds the configured adapter; only "simulator" exists so far
(``SimulatedBank``, in memory, for tests and demos). A real bank file/API adapter
implements ``BankAdapter.credits_since`` and registers itself in ``KINDS``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hpf.domain.errors import ConfigError
from hpf_adapters.bank.base import BankAdapter, BankCredit
from hpf_adapters.bank.simulator import SimulatedBank

KINDS: dict[str, Callable[..., BankAdapter]] = {"simulator": SimulatedBank}


def create(kind: str = "simulator", **options: Any) -> BankAdapter:
    """The bank adapter named ``kind``, built with ``options`` (e.g. ``today=clock.today``)."""
    try:
        factory = KINDS[kind]
    except KeyError:
        raise ConfigError(
            f"未知的银行接口类型“{kind}”，可选：{'、'.join(sorted(KINDS))}",
            internal=f"bank adapter kind {kind!r} not in {sorted(KINDS)}",
        ) from None
    return factory(**options)


__all__ = ["KINDS", "BankAdapter", "BankCredit", "SimulatedBank", "create"]
