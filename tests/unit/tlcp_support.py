"""A throwaway SM2 PKI and a loopback TLCP server for the TLCP tests."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hpf.crypto import x509
from hpf.crypto.sm2 import SM2PrivateKey
from hpf.tlcp import Credentials, TLCPContext

SIGN_USAGE = ("digitalSignature", "nonRepudiation")
ENC_USAGE = ("keyEncipherment", "dataEncipherment", "keyAgreement")


@dataclass
class Pki:
    ca: x509.Certificate
    ca_key: SM2PrivateKey

    @classmethod
    def make(cls, cn: str = "HPF 测试根CA") -> Pki:
        key = SM2PrivateKey.generate()
        ca = x509.issue(
            x509.Name.build(CN=cn),
            key.public_key(),
            issuer=None,
            issuer_key=key,
            is_ca=True,
            key_usage=("keyCertSign", "cRLSign"),
            days=3650,
        )
        return cls(ca, key)

    def leaf(
        self, cn: str, usage, *, eku: str = "serverAuth", not_before: datetime | None = None, days: int = 365
    ) -> tuple[x509.Certificate, SM2PrivateKey]:
        key = SM2PrivateKey.generate()
        cert = x509.issue(
            x509.Name.build(CN=cn),
            key.public_key(),
            issuer=self.ca,
            issuer_key=self.ca_key,
            key_usage=usage,
            extended_key_usage=(eku,),
            dns_names=("localhost",),
            not_before=not_before,
            days=days,
        )
        return cert, key

    def credentials(self, cn: str = "localhost", *, eku: str = "serverAuth", **kw) -> Credentials:
        sign, sign_key = self.leaf(cn, SIGN_USAGE, eku=eku, **kw)
        enc, enc_key = self.leaf(cn, ENC_USAGE, eku=eku)
        return Credentials(sign, sign_key, enc, enc_key, (self.ca,))


@dataclass
class Outcome:
    conn: object = None
    error: BaseException | None = None
    received: bytes = b""
    done: threading.Event = field(default_factory=threading.Event)


def serve_once(ctx: TLCPContext, listener: socket.socket, *, echo: bool = True, expect: int = 1) -> Outcome:
    """Accept one connection in a thread: handshake, read at least ``expect`` bytes, echo them back."""
    outcome = Outcome()

    def run() -> None:
        sock, _ = listener.accept()
        try:
            conn = ctx.wrap_socket(sock)
            outcome.conn = conn
            if echo:
                data = conn.recv(65536)
                while data and len(data) < expect:
                    more = conn.recv(65536)
                    if not more:
                        break
                    data += more
                outcome.received = data
                conn.sendall(b"echo:" + data)
                conn.close()
        except BaseException as exc:
            outcome.error = exc
            sock.close()
        finally:
            outcome.done.set()

    threading.Thread(target=run, daemon=True).start()
    return outcome


def listener() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    return sock


def connect(ctx: TLCPContext, port: int, **kw):
    return ctx.wrap_socket(
        socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname="localhost", **kw
    )


def past(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)
