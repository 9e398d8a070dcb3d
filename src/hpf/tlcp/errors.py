"""TLCP failures: each carries the alert to send (or that was received) and a reason for the log.

Reasons name what was wrong ("client offered no supported cipher suite", "certificate
expired") and never carry key material, secrets or record contents.
"""

from __future__ import annotations

from hpf.tlcp.constants import AlertDescription


class TLCPError(Exception):
    """A fatal protocol failure detected here; ``alert`` is what we send to the peer."""

    def __init__(self, alert: AlertDescription, reason: str) -> None:
        super().__init__(f"{alert.name.lower()}: {reason}")
        self.alert = alert
        self.reason = reason


class AlertReceived(TLCPError):
    """The peer sent a fatal alert (or close_notify during the handshake)."""

    def __init__(self, alert: int, level: int) -> None:
        try:
            description = AlertDescription(alert)
        except ValueError:
            description = AlertDescription.INTERNAL_ERROR
        super().__init__(description, f"peer sent alert {alert} (level {level})")
        self.code = alert
        self.level = level


class ConnectionClosed(TLCPError):
    """The transport closed (EOF) where a record was expected."""

    def __init__(self, reason: str = "connection closed by peer") -> None:
        super().__init__(AlertDescription.CLOSE_NOTIFY, reason)


def fail(alert: AlertDescription, reason: str) -> TLCPError:
    return TLCPError(alert, reason)
