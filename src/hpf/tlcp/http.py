"""HTTP to partners (banks, data-sharing platforms) over TLCP, TLS or plain HTTP, one client.

Design choice: ``http.client`` rather than a new HTTP stack. ``TLCPSocket`` offers the socket
surface ``http.client`` uses (``sendall``, ``makefile``, ``close``), so
``TLCPHTTPSConnection`` only replaces ``connect()``: TCP connect, then the TLCP handshake
with ``server_hostname = host``. Everything above (framing, chunked bodies, keep-alive) is the
standard library's, tested for decades.

``PartnerClient(base_url, ...)`` picks the channel from the URL scheme, so an adapter takes
one client whatever the partner speaks:

- ``tlcp://host:port/prefix`` (or ``https+tlcp://``): TLCP with the given CA (``ca_file``),
  optional certificate pins (SM3 fingerprints, ``hpf certs inspect`` shows them) and an
  optional client double certificate (``client_cert``: a ``make-client`` output directory or
  the paths ``(sign_cert, sign_key, enc_cert, enc_key[, chain])``; needed for ECDHE suites);
- ``https://``: standard TLS with ``ssl`` (system trust, or ``ca_file``), pins compared to the
  SHA-256 or SM3 fingerprint of the server certificate;
- ``http://``: plain, for a simulator or a partner reached through a local gateway.

The client keeps one connection open (keep-alive) and, for TLCP, the last session: a new
connection (after the server closed the old one) offers it and is resumed without the SM2
operations of a full handshake. A connection idle for longer than ``idle_timeout`` (shorter
than gunicorn's default keep-alive of 5 s) is replaced before it is used, and an idempotent
request that finds its kept-alive connection closed is sent once more on a new one.

Failures raise ``PartnerChannelError`` (code ``partner_channel_failed``), whose message
names the TLCP alert and the reason (e.g. ``unknown_ca``: the partner's certificate is not
issued by the configured CA, or matches no pin); the partner's address goes to ``internal``
(logs only).

Where adapters use it: ``adapters/bank/base.py`` defines the ``BankAdapter`` port with the
simulator as its only implementation so far; a bank API adapter will take
``client_for(settings_url, ca_file=..., client_cert=...)`` in its constructor and call
``get_json``/``post_json``, as will the data-sharing adapters.
"""

from __future__ import annotations

import hashlib
import http.client
import json as jsonlib
import socket
import ssl
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hpf.crypto import x509
from hpf.crypto.core import sm3
from hpf.domain.errors import HpfError
from hpf.tlcp.context import Credentials, Session, TLCPContext, normalise_fingerprint
from hpf.tlcp.errors import TLCPError

TLCP_SCHEMES = ("tlcp", "https+tlcp")
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
CLIENT_CERT_FILES = ("sign.crt", "sign.key", "enc.crt", "enc.key", "chain.pem")


class PartnerChannelError(HpfError):
    code = "partner_channel_failed"
    status = 502
    message = "与合作方的安全通道建立失败"

    def __init__(
        self,
        message: str | None = None,
        *,
        alert: str | None = None,
        reason: str | None = None,
        internal: str | None = None,
    ) -> None:
        super().__init__(message, internal=internal)
        self.alert = alert
        self.reason = reason


class TLCPHTTPSConnection(http.client.HTTPConnection):
    """``http.client`` over TLCP. ``session`` is offered on connect and updated after it."""

    default_port = 443

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        context: TLCPContext,
        timeout: float | None = None,
        session: Session | None = None,
        server_hostname: str | None = None,
        source_address=None,
    ) -> None:
        if timeout is None:
            timeout = socket.getdefaulttimeout()
        super().__init__(host, port, timeout=timeout, source_address=source_address)
        if context.server_side:
            raise ValueError("a client connection needs a client-side TLCPContext")
        self.context = context
        self.session = session
        self.server_hostname = server_hostname or self.host
        self.session_reused = False

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout, self.source_address)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = self.context.wrap_socket(sock, server_hostname=self.server_hostname, session=self.session)
        except BaseException:
            sock.close()
            raise
        self.sock = conn
        self.session = conn.session or self.session
        self.session_reused = conn.session_reused


def _client_credentials(client_cert) -> Credentials | None:
    if client_cert is None or isinstance(client_cert, Credentials):
        return client_cert
    if isinstance(client_cert, str | Path) and Path(client_cert).is_dir():
        folder = Path(client_cert)
        paths = [folder / name for name in CLIENT_CERT_FILES]
        if not paths[-1].is_file():
            paths = paths[:-1]
    else:
        paths = list(client_cert)
    if len(paths) not in (4, 5):
        raise ValueError("client_cert: a directory, or (sign_cert, sign_key, enc_cert, enc_key[, chain])")
    return Credentials.load(*paths)  # skips the leaves that a make-client chain.pem repeats


class PartnerClient:
    """A partner's HTTP API at ``base_url``; see the module docstring for schemes and options."""

    def __init__(
        self,
        base_url: str,
        *,
        ca_file: str | Path | None = None,
        pinned_fingerprints: tuple[str, ...] | list[str] = (),
        client_cert=None,
        suites=None,
        timeout: float = 10.0,
        cert_verify_sign_form: str = "hash",
        client_certificates: str = "double",
        server_hostname: str | None = None,
        headers: Mapping[str, str] | None = None,
        idle_timeout: float = 4.0,
    ) -> None:
        parts = urlsplit(base_url)
        scheme = parts.scheme.lower()
        if scheme not in (*TLCP_SCHEMES, "https", "http"):
            raise ValueError(f"unsupported partner URL scheme {parts.scheme!r} (tlcp, https or http)")
        if not parts.hostname:
            raise ValueError(f"partner URL without a host: {base_url!r}")
        self.base_url = base_url
        self.scheme = "tlcp" if scheme in TLCP_SCHEMES else scheme
        self.host = parts.hostname
        self.port = parts.port or (80 if scheme == "http" else 443)
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.idle_timeout = idle_timeout
        self.server_hostname = server_hostname or self.host
        self.default_headers = dict(headers or {})
        self.pins = frozenset(normalise_fingerprint(p) for p in pinned_fingerprints)
        self.session: Session | None = None  # the last TLCP session, offered on each new connection
        self.session_reused = False  # whether the current connection was resumed
        self.connections = 0  # connections opened so far (for tests and diagnostics)
        self._conn: http.client.HTTPConnection | None = None
        self._last_used = 0.0
        self._tlcp: TLCPContext | None = None
        self._ssl: ssl.SSLContext | None = None
        if self.scheme == "tlcp":
            if not ca_file:
                raise ValueError("a TLCP partner needs ca_file (the CA that issued its certificates)")
            self._tlcp = TLCPContext(
                server_side=False,
                credentials=_client_credentials(client_cert),
                suites=suites,
                trust_anchors=x509.load_pem_chain(Path(ca_file).read_bytes()),
                pinned_fingerprints=tuple(self.pins),
                handshake_timeout=timeout,
                cert_verify_sign_form=cert_verify_sign_form,
                client_certificates=client_certificates,
            )
        elif self.scheme == "https":
            self._ssl = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
            self._ssl.minimum_version = ssl.TLSVersion.TLSv1_2
            if client_cert is not None:
                cert, key = client_cert
                self._ssl.load_cert_chain(str(cert), str(key))

    # ------------------------------------------------------------ connections

    def _new_connection(self) -> http.client.HTTPConnection:
        if self.scheme == "tlcp":
            return TLCPHTTPSConnection(
                self.host,
                self.port,
                context=self._tlcp,
                timeout=self.timeout,
                session=self.session,
                server_hostname=self.server_hostname,
            )
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=self._ssl)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def _connect(self) -> http.client.HTTPConnection:
        conn = self._new_connection()
        try:
            conn.connect()
        except TLCPError as exc:
            conn.close()
            raise self._broken(exc, "建立失败") from None
        except ssl.SSLError as exc:
            conn.close()
            reason = getattr(exc, "verify_message", None) or exc.reason or str(exc)
            raise PartnerChannelError(
                f"与合作方的 TLS 通道建立失败（{reason}）",
                alert=exc.reason,
                reason=str(reason),
                internal=f"https://{self.host}:{self.port}",
            ) from None
        except OSError as exc:
            conn.close()
            raise PartnerChannelError(
                f"无法连接合作方（{exc.strerror or type(exc).__name__}）",
                reason=str(exc),
                internal=f"{self.scheme}://{self.host}:{self.port}",
            ) from None
        if self.scheme == "https" and self.pins:
            self._check_tls_pin(conn)
        if isinstance(conn, TLCPHTTPSConnection):
            self.session = conn.session or self.session
            self.session_reused = conn.session_reused
        self.connections += 1
        return conn

    def _check_tls_pin(self, conn: http.client.HTTPSConnection) -> None:
        der = conn.sock.getpeercert(binary_form=True) or b""
        if hashlib.sha256(der).hexdigest() not in self.pins and sm3(der).hex() not in self.pins:
            conn.close()
            raise PartnerChannelError(
                "与合作方的 TLS 通道建立失败（服务端证书不在固定证书列表中）",
                alert="unknown_ca",
                reason="certificate not pinned",
                internal=f"https://{self.host}:{self.port}",
            )

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ requests

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, headers with lower-case names, body). Network/TLCP failures raise
        ``PartnerChannelError``; an HTTP error status is returned, not raised."""
        method = method.upper()
        sent = dict(self.default_headers)
        if json is not None:
            body = jsonlib.dumps(json, ensure_ascii=False).encode("utf-8")
            sent.setdefault("Content-Type", "application/json; charset=utf-8")
        sent.setdefault("Accept", "application/json")
        sent.update(headers or {})
        target = self.prefix + (path if path.startswith("/") else "/" + path)
        if self._conn is not None and time.monotonic() - self._last_used > self.idle_timeout:
            self.close()  # the server has probably closed it already; don't race it
        for attempt in (1, 2):
            reused = self._conn is not None
            if self._conn is None:
                self._conn = self._connect()
            try:
                self._conn.request(method, target, body=body, headers=sent)
                response = self._conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                self.close()
                if reused and attempt == 1 and method in IDEMPOTENT:
                    continue  # the kept-alive connection was closed under us: once more, fresh
                raise self._broken(exc) from None
            except (OSError, TLCPError, http.client.HTTPException) as exc:
                self.close()
                raise self._broken(exc) from None
            self._last_used = time.monotonic()
            if response.will_close:
                self.close()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        raise AssertionError("unreachable")

    def _broken(self, exc: BaseException, what: str = "中断") -> PartnerChannelError:
        if isinstance(exc, TLCPError):
            alert = exc.alert.name.lower()
            return PartnerChannelError(
                f"与合作方的 TLCP 通道{what}（告警 {alert}：{exc.reason}）",
                alert=alert,
                reason=exc.reason,
                internal=f"{self.scheme}://{self.host}:{self.port}",
            )
        return PartnerChannelError(
            f"与合作方的通信中断（{type(exc).__name__}）",
            reason=str(exc),
            internal=f"{self.scheme}://{self.host}:{self.port}",
        )

    def get_json(self, path: str, *, headers: Mapping[str, str] | None = None) -> tuple[int, Any]:
        status, _, data = self.request("GET", path, headers=headers)
        return status, _decode(data)

    def post_json(
        self, path: str, payload: Any, *, headers: Mapping[str, str] | None = None
    ) -> tuple[int, Any]:
        status, _, data = self.request("POST", path, json=payload, headers=headers)
        return status, _decode(data)


def _decode(data: bytes) -> Any:
    if not data:
        return None
    try:
        return jsonlib.loads(data)
    except ValueError:
        raise PartnerChannelError("合作方返回的不是 JSON", reason="response body is not JSON") from None


def client_for(url: str, **settings) -> PartnerClient:
    """The channel factory adapters use: ``client_for(config.url, ca_file=..., client_cert=...)``."""
    return PartnerClient(url, **settings)
