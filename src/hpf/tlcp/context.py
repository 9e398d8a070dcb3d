"""TLCP configuration: identities (double certificates), trust, suites, sessions.

``TLCPContext`` plays the role of ``ssl.SSLContext``: made once per listener or partner,
shared by every connection, safe across threads. ``wrap_socket`` returns a ``TLCPSocket``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from hpf.crypto import x509
from hpf.crypto.sm2 import SM2PrivateKey
from hpf.tlcp.constants import DEFAULT_SUITES, CipherSuite, suite_by_name

CLIENT_AUTH_MODES = ("none", "optional", "required")
# CertificateVerify: "hash" = SM2 signature over SM3(handshake messages) (GB/T 38636 §6.4.5.9,
# Tongsuo, gotlcp); "raw" = over the handshake messages themselves (what GmSSL 3.x signs).
CERT_VERIFY_FORMS = ("hash", "raw")


@dataclass(frozen=True)
class Credentials:
    """A TLCP identity: the signing pair, the encryption pair and the CA chain to send."""

    sign_cert: x509.Certificate
    sign_key: SM2PrivateKey
    enc_cert: x509.Certificate
    enc_key: SM2PrivateKey
    chain: tuple[x509.Certificate, ...] = ()

    def __post_init__(self) -> None:
        from hpf.crypto.errors import InvalidKey

        if self.sign_key.public_key() != self.sign_cert.public_key:
            raise InvalidKey("签名私钥与签名证书不匹配")
        if self.enc_key.public_key() != self.enc_cert.public_key:
            raise InvalidKey("加密私钥与加密证书不匹配")
        x509.check_key_usage(self.sign_cert, "sign")
        x509.check_key_usage(self.enc_cert, "enc")

    @classmethod
    def load(
        cls,
        sign_cert: str | Path,
        sign_key: str | Path,
        enc_cert: str | Path,
        enc_key: str | Path,
        chain: str | Path | None = None,
        password: str | None = None,
    ) -> Credentials:
        """From PEM files. ``sign_cert`` may itself hold the chain after the leaf (sign, [enc], CAs)."""
        sign_certs = x509.load_pem_chain(Path(sign_cert).read_bytes())
        enc = x509.Certificate.from_pem(Path(enc_cert).read_bytes())
        extra = list(sign_certs[1:])
        if chain:
            extra += x509.load_pem_chain(Path(chain).read_bytes())
        # chain.pem from `hpf certs` is sign ‖ enc ‖ CA: never send the leaves twice.
        extra = [c for c in extra if c.der not in (sign_certs[0].der, enc.der)]
        return cls(
            sign_certs[0],
            SM2PrivateKey.from_pem(Path(sign_key).read_bytes(), password),
            enc,
            SM2PrivateKey.from_pem(Path(enc_key).read_bytes(), password),
            tuple(_unique(extra)),
        )

    def certificate_list(self) -> list[bytes]:
        """The Certificate message: signing certificate, encryption certificate, then the chain."""
        return [self.sign_cert.der, self.enc_cert.der] + [c.der for c in self.chain]


def _unique(certs):
    seen, out = set(), []
    for cert in certs:
        if cert.der not in seen:
            seen.add(cert.der)
            out.append(cert)
    return out


@dataclass(frozen=True)
class Session:
    """What resumption needs; held by the client (``TLCPSocket.session``) and the server cache."""

    session_id: bytes
    master_secret: bytes = field(repr=False)
    suite: int
    peer_certificates: tuple[x509.Certificate, ...] = ()  # parsed once, reused on resumption
    created: float = field(default_factory=time.time)


class SessionCache:
    """Server-side sessions by ID: bounded (LRU) and expiring, shared by a worker's threads."""

    def __init__(self, size: int = 20000, ttl: float = 3600.0) -> None:
        self.size, self.ttl = size, ttl
        self._items: OrderedDict[bytes, Session] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session_id: bytes) -> Session | None:
        with self._lock:
            session = self._items.get(session_id)
            if session is None:
                return None
            if time.time() - session.created > self.ttl:
                del self._items[session_id]
                return None
            self._items.move_to_end(session_id)
            return session

    def put(self, session: Session) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[session.session_id] = session
            self._items.move_to_end(session.session_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def normalise_fingerprint(text: str) -> str:
    """A certificate fingerprint as compared: lower-case hex, without colons or spaces."""
    return text.lower().replace(":", "").strip()


class TLCPContext:
    def __init__(
        self,
        *,
        server_side: bool,
        credentials: Credentials | None = None,
        suites: tuple[CipherSuite, ...] | list[str] | None = None,
        trust_anchors: list[x509.Certificate] | tuple = (),
        pinned_fingerprints: tuple[str, ...] = (),
        verify_peer: bool = True,
        check_hostname: bool = True,
        client_auth: str = "none",
        handshake_timeout: float = 10.0,
        session_cache_size: int = 20000,
        session_ttl: float = 3600.0,
        cert_verify_forms: tuple[str, ...] = CERT_VERIFY_FORMS,
        cert_verify_sign_form: str = "hash",
        client_certificates: str = "double",
        sessions=None,
    ) -> None:
        if server_side and credentials is None:
            raise ValueError("a TLCP server needs its signing and encryption certificates")
        if client_auth not in CLIENT_AUTH_MODES:
            raise ValueError(f"client_auth must be one of {CLIENT_AUTH_MODES}")
        if not set(cert_verify_forms) <= set(CERT_VERIFY_FORMS) or not cert_verify_forms:
            raise ValueError(f"cert_verify_forms must be taken from {CERT_VERIFY_FORMS}")
        self.server_side = server_side
        self.credentials = credentials
        chosen = tuple(suite_by_name(s) if isinstance(s, str) else s for s in (suites or DEFAULT_SUITES))
        if not chosen:
            raise ValueError("no cipher suites configured")
        self.suites = chosen
        self.trust_anchors = list(trust_anchors)
        self.pinned_fingerprints = frozenset(normalise_fingerprint(f) for f in pinned_fingerprints)
        self.verify_peer = verify_peer
        self.check_hostname = check_hostname
        self.client_auth = client_auth
        self.handshake_timeout = handshake_timeout
        if cert_verify_sign_form not in CERT_VERIFY_FORMS:
            raise ValueError(f"cert_verify_sign_form must be one of {CERT_VERIFY_FORMS}")
        # What we verify (server) and what we sign (client): the standard form by default; "raw"
        # only for a partner whose GmSSL-based server insists on it.
        self.cert_verify_forms = tuple(cert_verify_forms)
        self.cert_verify_sign_form = cert_verify_sign_form
        if client_certificates not in ("double", "single"):
            raise ValueError("client_certificates must be 'double' or 'single'")
        self.client_certificates = client_certificates
        # Anything with get(id) / put(session) / size: the per-process cache by default, the
        # workers' shared store (hpf.tlcp.sessions) under gunicorn.
        self.sessions = sessions if sessions is not None else SessionCache(session_cache_size, session_ttl)

    def offered_suites(self) -> tuple[CipherSuite, ...]:
        """A client offers ECDHE only with a double certificate to answer the server's request."""
        has_pair = self.credentials is not None
        return tuple(s for s in self.suites if has_pair or not s.ecdhe)

    def wrap_socket(
        self,
        sock,
        *,
        server_hostname: str | None = None,
        session: Session | None = None,
        do_handshake: bool = True,
    ):
        from hpf.tlcp.connection import TLCPSocket

        conn = TLCPSocket(sock, self, server_hostname=server_hostname, session=session)
        if do_handshake:
            conn.do_handshake()
        return conn

    def verify_peer_chain(
        self, chain: list[x509.Certificate], *, role: str, hostname: str | None, pinned: bool = True
    ):
        """Verify the peer's leaf for ``role`` against the anchors; with pins configured, the path of
        the peer's identity (its signing certificate) must also contain a pinned certificate."""
        path = x509.verify_chain(
            chain[0],
            chain[1:],
            self.trust_anchors,
            role=role,
            hostname=hostname if self.check_hostname else None,
        )
        if (
            pinned
            and self.pinned_fingerprints
            and not any(c.fingerprint() in self.pinned_fingerprints for c in path)
        ):
            raise x509.CertificateError(
                "unknown_ca",
                "对端证书不在固定（pinned）证书列表中",
                internal="no certificate of the path matches a pinned fingerprint",
            )
        return path
