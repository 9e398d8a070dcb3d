"""TLCP (and optional standard TLS) served by gunicorn's own workers: ``hpf serve --tlcp``.

Design choice: the handshake runs *inside the worker*, not in a front listener process.
A separate TLCP terminator (a proxy process in front of gunicorn) would mean a second hop,
a second process to supervise and the peer's identity passed on in headers; a worker class
keeps one process model, HUP/USR2 reloads, timeouts and the access log exactly as for plain
HTTP. Each accepted socket is looked up by the listener it came from (the listener's port, or
its path for a Unix socket) and served as "tlcp", "tls" or "http":

- ``TlcpSyncWorker`` (threads = 1) handshakes inline in ``handle`` and then lets gunicorn's
  sync code parse the request; the sync worker closes every connection after one response.
- ``TlcpThreadWorker`` (threads > 1) replaces gthread's ``TConn``: the accept loop only
  accepts, the handshake runs in the thread pool (``handle``), so a slow peer never stalls
  accepting. Keep-alive works: a kept-alive TLCP connection goes back to the poller like any
  other; the one subtlety is plaintext already decrypted inside the ``TLCPSocket`` (one record
  may carry more than the HTTP parser read), which no longer makes the file descriptor
  readable, so ``finish_request`` re-queues a connection whose ``pending()`` is non-zero
  instead of parking it in the poller (where it would wait until the keep-alive timeout).

The handshake is bounded as a whole, from accept to Finished (``[tlcp] handshake_timeout``),
not per read: a peer that dribbles one byte every few seconds is dropped on time. Every
failure (bad record, no common suite, untrusted client certificate, timeout, reset) is
logged as ONE warning line on the ``hpf.tlcp`` logger with the peer address, the alert name
and the reason text of ``TLCPError`` (never key material or record bytes); the socket is
closed and the worker carries on. After the handshake a protocol failure is turned into a
``ConnectionResetError`` so gunicorn's socket-level error handling applies.

The WSGI environ of a TLCP/TLS request says ``wsgi.url_scheme = "https"`` whatever
forwarding headers claim, and carries ``tlcp.cipher`` (the suite name), ``tlcp.version``,
``tlcp.session_reused`` and, with client authentication, ``tlcp.peer_subject``.
``sendfile`` is switched off (``gunicorn_app``) since ``os.sendfile`` would bypass the
record protection.

Sessions are shared by the workers (``[tlcp] session_store = shared``, ``hpf.tlcp.sessions``):
the master makes the store and its key before forking, so a client is resumed whichever worker
accepts its next connection. ``session_store = worker`` keeps a cache per process instead.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import shutil
import socket
import ssl
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gunicorn import http as ghttp
from gunicorn import util as gutil
from gunicorn.workers.gthread import _DEFER, DEFAULT_WORKER_DATA_TIMEOUT, TConn, ThreadWorker
from gunicorn.workers.sync import SyncWorker

from hpf.crypto import x509
from hpf.domain.errors import ConfigError
from hpf.tlcp.connection import TLCPSocket
from hpf.tlcp.context import Credentials, TLCPContext
from hpf.tlcp.errors import TLCPError

log = logging.getLogger("hpf.tlcp")
EXPIRY_WARNING_DAYS = 30
PROTOCOLS = ("tlcp", "tls", "http")


# ---------------------------------------------------------------- configuration -> objects


def load_credentials(tlcp) -> Credentials:
    """The server's double certificates from the [tlcp] files (paths already resolved)."""
    return Credentials.load(
        tlcp.sign_cert,
        tlcp.sign_key,
        tlcp.enc_cert,
        tlcp.enc_key,
        tlcp.chain or None,
        tlcp.key_password or None,
    )


# (directory, key) of the session store shared by the workers: set in the master before they
# fork, inherited by them (the key never leaves the processes' memory).
_SHARED_SESSIONS: tuple[Path, bytes] | None = None
SHM = Path("/dev/shm")  # noqa: S108 - tmpfs: sessions never reach a disk


def open_shared_sessions(settings) -> None:
    global _SHARED_SESSIONS
    if settings.tlcp.session_store != "shared" or settings.tlcp.session_cache_size <= 0:
        return
    base = SHM if SHM.is_dir() else Path(settings.instance_path)
    directory = base / f"hpf-tlcp-sessions-{os.getpid()}-{secrets.token_hex(4)}"
    directory.mkdir(mode=0o700)
    _SHARED_SESSIONS = (directory, secrets.token_bytes(16))


def close_shared_sessions() -> None:
    global _SHARED_SESSIONS
    if _SHARED_SESSIONS is not None:
        shutil.rmtree(_SHARED_SESSIONS[0], ignore_errors=True)
        _SHARED_SESSIONS = None


def build_server_context(tlcp) -> TLCPContext:
    """The worker's TLCPContext; any unreadable or mismatched file is a ConfigError."""
    try:
        credentials = load_credentials(tlcp)
        anchors = x509.load_pem_chain(Path(tlcp.ca_file).read_bytes()) if tlcp.ca_file else []
    except OSError as exc:
        raise ConfigError(f"无法读取 TLCP 证书或私钥文件 {exc.filename}: {exc.strerror}") from None
    except Exception as exc:  # PEM/DER errors, wrong password-less key, key not matching the cert
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        raise ConfigError(f"TLCP 证书或私钥无效: {message}（可用 hpf certs inspect 检查）") from None
    if tlcp.client_auth != "none" and not anchors:
        raise ConfigError(f"tlcp.ca_file {tlcp.ca_file} 中没有 CA 证书")
    return TLCPContext(
        server_side=True,
        credentials=credentials,
        suites=list(tlcp.suites),
        trust_anchors=anchors,
        client_auth=tlcp.client_auth,
        handshake_timeout=tlcp.handshake_timeout,
        session_cache_size=tlcp.session_cache_size,
        session_ttl=float(tlcp.session_ttl),
        cert_verify_forms=tuple(f.strip() for f in tlcp.cert_verify_forms.split(",") if f.strip()),
        sessions=_shared_cache(tlcp),
    )


def _shared_cache(tlcp):
    if _SHARED_SESSIONS is None:
        return None  # the context's own per-process cache
    from hpf.tlcp.sessions import SharedSessionCache

    directory, key = _SHARED_SESSIONS
    return SharedSessionCache(directory, key, tlcp.session_cache_size, float(tlcp.session_ttl))


def build_tls_context(tlcp) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(tlcp.tls_cert, tlcp.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"无法加载 TLS 证书 {tlcp.tls_cert} 与私钥 {tlcp.tls_key}: {exc}") from None
    return context


def _bind_key(bind: str):
    address = gutil.parse_address(bind)
    return address[1] if isinstance(address, tuple) else address


def listener_protocols(settings) -> dict[Any, str]:
    """Listener key (TCP port, or Unix socket path) -> "tlcp" | "tls" | "http"."""
    tlcp = settings.tlcp
    out: dict[Any, str] = {}
    if tlcp.plain_http or not tlcp.enabled:
        out[_bind_key(settings.server.bind)] = "http"
    if tlcp.enabled:
        out[_bind_key(tlcp.bind)] = "tlcp"
        if tlcp.tls_bind:
            out[_bind_key(tlcp.tls_bind)] = "tls"
    return out


def binds(settings) -> list[str]:
    """Gunicorn's bind list for these settings (each address once)."""
    tlcp = settings.tlcp
    out = []
    if tlcp.plain_http or not tlcp.enabled:
        out.append(settings.server.bind)
    if tlcp.enabled:
        out.append(tlcp.bind)
        if tlcp.tls_bind:
            out.append(tlcp.tls_bind)
    if len({_bind_key(b) for b in out}) != len(out):
        raise ConfigError(
            f"监听地址冲突: {', '.join(out)}；[server] bind、tlcp.bind 与 tlcp.tls_bind 须使用不同的端口"
        )
    return out


def _listener_key(sockname):
    return sockname[1] if isinstance(sockname, tuple) else sockname


def check(settings) -> None:
    """At start-up, in the master: load every certificate and key once (ConfigError if not)."""
    build_server_context(settings.tlcp)
    if settings.tlcp.tls_bind:
        build_tls_context(settings.tlcp)
    binds(settings)


def describe(settings, now: datetime | None = None) -> list[tuple[int, str]]:
    """(log level, line) pairs for the start-up report: listeners and certificates."""
    now = now or datetime.now(UTC)
    tlcp = settings.tlcp
    lines: list[tuple[int, str]] = []
    for bind in binds(settings):
        protocol = listener_protocols(settings)[_bind_key(bind)]
        detail = {
            "tlcp": f"TLCP ({', '.join(tlcp.suites)}; client_auth={tlcp.client_auth})",
            "tls": "TLS >= 1.2",
            "http": "plain HTTP",
        }[protocol]
        lines.append((logging.INFO, f"listener {bind}: {detail}"))
    if not tlcp.enabled:
        return lines
    certs = [("TLCP signing", tlcp.sign_cert), ("TLCP encryption", tlcp.enc_cert)]
    if tlcp.tls_bind:
        certs.append(("TLS", tlcp.tls_cert))
    for label, path in certs:
        try:
            subject, issuer, not_after = _cert_summary(path)
        except Exception:
            lines.append((logging.WARNING, f"{label} certificate {path}: subject and expiry unreadable"))
            continue
        left = (not_after - now).days
        lines.append(
            (
                logging.INFO,
                f"{label} certificate: subject {subject}, issuer {issuer}, "
                f"expires {not_after:%Y-%m-%d} ({left} days), file {path}",
            )
        )
        if left < EXPIRY_WARNING_DAYS:
            lines.append(
                (
                    logging.WARNING,
                    f"{label} certificate {path} expires in {left} days "
                    f"({not_after:%Y-%m-%d}); renew it"
                    + (" (hpf certs make-server)" if label.startswith("TLCP") else ""),
                )
            )
    return lines


def _cert_summary(path: str) -> tuple[str, str, datetime]:
    """(subject, issuer, not after) of the first certificate in a PEM file, SM2 or not."""
    try:
        cert = x509.Certificate.from_pem(Path(path).read_bytes())
        return str(cert.subject), str(cert.issuer), cert.not_after
    except x509.CertificateError:
        pass
    # An RSA/ECDSA certificate for the TLS listener: ssl's own decoder (CPython test helper).
    info = ssl._ssl._test_decode_cert(path)

    def name(rdns) -> str:
        return ", ".join(f"{k}={v}" for rdn in rdns for k, v in rdn)

    not_after = datetime.fromtimestamp(ssl.cert_time_to_seconds(info["notAfter"]), UTC)
    return name(info["subject"]), name(info["issuer"]), not_after


# ---------------------------------------------------------------- the secure handshake


class ServerTLCPSocket(TLCPSocket):
    """After the handshake, a TLCP failure reaches gunicorn as ``ConnectionResetError``
    (logged once): its code handles socket errors, but not arbitrary exceptions raised while
    it drains a socket being closed."""

    peer: str = "-"
    _reported = False

    def _reset(self, exc: TLCPError) -> ConnectionResetError:
        if not self._reported:
            self._reported = True
            log_failure("tlcp", self.peer, exc.alert.name.lower(), exc.reason, stage="connection")
        return ConnectionResetError(errno.ECONNRESET, f"TLCP {exc.alert.name.lower()}: {exc.reason}")

    def recv(self, bufsize: int = 65536, flags: int = 0) -> bytes:
        try:
            return super().recv(bufsize, flags)
        except TLCPError as exc:
            raise self._reset(exc) from None

    def sendall(self, data, flags: int = 0) -> None:
        try:
            super().sendall(data, flags)
        except TLCPError as exc:
            raise self._reset(exc) from None


def peer_text(addr) -> str:
    if isinstance(addr, tuple) and len(addr) >= 2:
        return f"{addr[0]}:{addr[1]}"
    return str(addr or "-")


def log_failure(protocol: str, peer: str, alert: str, reason: str, *, stage: str = "handshake") -> None:
    log.warning(
        "%s %s failed: peer=%s alert=%s reason=%s",
        protocol.upper(),
        stage,
        peer,
        alert,
        reason,
        extra={"peer": peer, "alert": alert, "reason": reason, "protocol": protocol},
    )


def tlcp_handshake(context: TLCPContext, sock: socket.socket, addr, deadline: float | None = None):
    """Handshake on an accepted socket; the ``ServerTLCPSocket``, or None (logged, closed)."""
    peer = peer_text(addr)
    conn = ServerTLCPSocket(sock, context)
    conn.peer = peer
    try:
        conn.do_handshake(deadline)
    except TLCPError as exc:
        log_failure("tlcp", peer, exc.alert.name.lower(), exc.reason)
    except TimeoutError:
        log_failure("tlcp", peer, "timeout", f"no complete handshake within {context.handshake_timeout:g} s")
    except OSError as exc:
        log_failure("tlcp", peer, "-", f"socket error: {exc.strerror or type(exc).__name__}")
    except Exception as exc:
        log_failure("tlcp", peer, "internal_error", f"unexpected {type(exc).__name__} in the handshake")
    else:
        return conn
    with contextlib.suppress(OSError):
        sock.close()
    return None


def tls_handshake(context: ssl.SSLContext, sock: socket.socket, addr, timeout: float):
    peer = peer_text(addr)
    sock.settimeout(timeout)
    try:
        wrapped = context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        wrapped.do_handshake()
    except ssl.SSLError as exc:
        reason = getattr(exc, "verify_message", None) or exc.strerror or str(exc.reason)
        log_failure("tls", peer, (exc.reason or "ssl_error").lower(), reason)
    except TimeoutError:
        log_failure("tls", peer, "timeout", f"no complete handshake within {timeout:g} s")
    except OSError as exc:
        log_failure("tls", peer, "-", f"socket error: {exc.strerror or type(exc).__name__}")
    except Exception as exc:
        log_failure("tls", peer, "internal_error", f"unexpected {type(exc).__name__} in the handshake")
    else:
        wrapped.settimeout(None)
        return wrapped
    with contextlib.suppress(OSError):
        sock.close()
    return None


class TransportEnviron:
    """WSGI middleware: the scheme and TLCP details from the connection itself."""

    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, environ, start_response):
        sock = environ.get("gunicorn.socket")
        if isinstance(sock, TLCPSocket):
            environ["wsgi.url_scheme"] = "https"
            environ["HTTPS"] = "on"
            environ["tlcp.version"] = sock.version()
            environ["tlcp.cipher"] = sock.suite.name if sock.suite else None
            environ["tlcp.session_reused"] = sock.session_reused
            if sock.peer_certificates:
                environ["tlcp.peer_subject"] = str(sock.peer_certificates[0].subject)
        elif isinstance(sock, ssl.SSLSocket):
            environ["wsgi.url_scheme"] = "https"
            environ["HTTPS"] = "on"
        return self.app(environ, start_response)


# ---------------------------------------------------------------- gunicorn workers


class _SecureWorkerMixin:
    """What both worker classes share: contexts built once per worker, listener lookup."""

    tlcp_context: TLCPContext | None = None
    tls_context: ssl.SSLContext | None = None
    protocols: dict[Any, str]

    def _init_transport(self) -> None:
        settings = getattr(self.app, "settings", None)
        if settings is None:
            from hpf.config import load_settings

            settings = load_settings()
        self.hpf_settings = settings
        self.protocols = listener_protocols(settings)
        self.handshake_timeout = settings.tlcp.handshake_timeout
        if settings.tlcp.enabled:
            self.tlcp_context = build_server_context(settings.tlcp)
            if settings.tlcp.tls_bind:
                self.tls_context = build_tls_context(settings.tlcp)

    def protocol_of(self, listener) -> str:
        try:
            key = _listener_key(listener.getsockname())
        except OSError:
            return "http"
        return self.protocols.get(key, "http")

    def secure(self, protocol: str, sock, addr, deadline: float | None = None):
        """The socket to serve HTTP over, or None when the handshake failed (logged, closed)."""
        if protocol == "tlcp":
            return tlcp_handshake(self.tlcp_context, sock, addr, deadline)
        if protocol == "tls":
            return tls_handshake(self.tls_context, sock, addr, self.handshake_timeout)
        return sock

    def load_wsgi(self) -> None:
        super().load_wsgi()
        self.wsgi = TransportEnviron(self.wsgi)


class TlcpSyncWorker(_SecureWorkerMixin, SyncWorker):
    def init_process(self) -> None:
        self._init_transport()
        super().init_process()

    def handle(self, listener, client, addr) -> None:
        protocol = self.protocol_of(listener)
        if protocol != "http":
            client = self.secure(protocol, client, addr)
            if client is None:
                return
        super().handle(listener, client, addr)


class SecureTConn(TConn):
    """gthread's connection, told its protocol; the handshake happens in ``handshake``."""

    def __init__(self, cfg, sock, client, server, protocol: str, deadline: float) -> None:
        super().__init__(cfg, sock, client, server)
        self.protocol = protocol
        self.deadline = deadline
        self.failed = False  # handshake failed: the socket is closed already

    def handshake(self, worker: _SecureWorkerMixin) -> bool:
        self.initialized = True
        self.sock.setblocking(True)
        secured = worker.secure(self.protocol, self.sock, self.client, self.deadline)
        if secured is None:
            self.failed = True
            return False
        self.sock = secured
        self.parser = ghttp.get_parser(self.cfg, self.sock, self.client)
        return True


class TlcpThreadWorker(_SecureWorkerMixin, ThreadWorker):
    def init_process(self) -> None:
        self._init_transport()
        super().init_process()

    def accept(self, listener) -> None:
        try:
            client_sock, client_addr = listener.accept()
            self.nr_conns += 1
            client_sock.setblocking(True)
            protocol = self.protocol_of(listener)
            conn = SecureTConn(
                self.cfg,
                client_sock,
                client_addr,
                listener.getsockname(),
                protocol,
                time.monotonic() + self.handshake_timeout,
            )
            self.enqueue_req(conn)
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise

    def handle(self, conn):
        """In a pool thread. A new TLCP/TLS connection: wait for its first bytes (bounded by
        the handshake deadline), handshake, then gunicorn's own request handling."""
        if isinstance(conn, SecureTConn) and conn.protocol != "http" and not conn.initialized:
            if not conn.data_ready:
                remaining = conn.deadline - time.monotonic()
                if remaining <= 0 or not conn.wait_for_data(min(remaining, DEFAULT_WORKER_DATA_TIMEOUT)):
                    if time.monotonic() < conn.deadline:
                        return _DEFER  # to the poller, without holding a thread
                    log_failure(
                        conn.protocol,
                        peer_text(conn.client),
                        "timeout",
                        f"no ClientHello within {self.handshake_timeout:g} s",
                    )
                    with contextlib.suppress(OSError):
                        conn.sock.close()
                    conn.failed = True
                    return False
            if not conn.handshake(self):
                return False
        return super().handle(conn)

    def finish_request(self, conn, fs) -> None:
        result = fs.result() if not fs.cancelled() and fs.exception() is None else None
        if isinstance(conn, SecureTConn) and conn.failed:
            self.nr_conns -= 1  # closed and logged in the thread; gunicorn would close it again
            return
        if result is True and isinstance(conn.sock, TLCPSocket) and conn.sock.pending():
            # Decrypted bytes of the next request are already held by the TLCP socket: the
            # poller would not see them (the descriptor is not readable), so serve them now.
            self.enqueue_req(conn)
            return
        super().finish_request(conn, fs)
        if result is _DEFER and isinstance(conn, SecureTConn) and not conn.initialized:
            conn.timeout = min(conn.timeout, conn.deadline)  # murder_pending closes it on time
