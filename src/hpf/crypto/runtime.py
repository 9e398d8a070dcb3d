"""Process start-up for the crypto layer: choose the provider, then prove it works."""

from __future__ import annotations

import logging

from hpf.crypto import selftest
from hpf.crypto.providers import Provider, activate

log = logging.getLogger("hpf.crypto")


def start(crypto_settings, *, self_test: bool = True) -> Provider:
    """Activate ``[crypto] provider`` and run the power-on self-test (raises SelfTestFailed)."""
    provider = activate(crypto_settings.provider)
    from hpf.security import passwords

    passwords.configure(crypto_settings.password_iterations)
    if self_test:
        results = selftest.require(provider)
        if results:
            log.info("crypto self-test passed: provider=%s checks=%d engines=%s", provider.name,
                     len(results), ",".join(e.name for e in provider.engines().values()))
    for algorithm, reason in provider.fallbacks.items():
        log.warning("crypto provider %s: %s runs on %s, not the OpenSSL engine (%s)",
                    provider.name, algorithm.upper(), provider.engines()[algorithm].name, reason)
    return provider
