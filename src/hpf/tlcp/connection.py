"""A TLCP connection over a blocking socket: the handshake (both sides) and application data.

``TLCPSocket`` offers the part of ``ssl.SSLSocket`` that servers and HTTP clients use
(``recv``, ``recv_into``, ``sendall``, ``makefile``, ``close``, ``fileno``...), so gunicorn's
workers and ``http.client`` run over it unchanged.

Security notes, each tested in tests/unit/test_tlcp_*.py:
- a ClientKeyExchange that does not decrypt to a 48-byte pre-master secret starting 0x0101
  is replaced by a random secret and the handshake goes on (RFC 5246 §7.4.7.1): the peer
  learns nothing until its Finished fails, exactly as with a wrong key;
- renegotiation is refused (no_renegotiation warning), whichever side asks;
- every read is bounded (one record, one handshake message of at most 64 KiB).
"""

from __future__ import annotations

import contextlib
import hmac
import io
import logging
import secrets
import socket
import threading
import time

from hpf.crypto import x509
from hpf.crypto.core import sm3
from hpf.crypto.errors import CryptoError
from hpf.crypto.sm2 import SM2PrivateKey, SM2PublicKey
from hpf.tlcp import ecdhe, keys
from hpf.tlcp import messages as m
from hpf.tlcp.constants import (
    MAX_HANDSHAKE_MESSAGE,
    PRE_MASTER_SECRET_SIZE,
    RANDOM_SIZE,
    SUITES,
    VERSION_BYTES,
    AlertDescription,
    AlertLevel,
    CipherSuite,
    ContentType,
    HandshakeType,
)
from hpf.tlcp.context import Session, TLCPContext
from hpf.tlcp.errors import AlertReceived, ConnectionClosed, TLCPError
from hpf.tlcp.record import CbcProtection, GcmProtection, RecordLayer

log = logging.getLogger("hpf.tlcp")
A = AlertDescription
H = HandshakeType
MAX_WARNINGS = 8  # warning alerts / refused renegotiations tolerated before we give up on a peer

_CERT_ALERTS = {"unknown_ca": A.UNKNOWN_CA, "unsupported_algorithm": A.UNSUPPORTED_CERTIFICATE}


def certificate_alert(error: x509.CertificateError) -> TLCPError:
    reason = f"certificate rejected ({error.reason}): {error.internal or error.message}"
    # Untrusted -> unknown_ca; expired, not yet valid, wrongly used, bad signature -> bad_certificate,
    # with the precise reason in the log line rather than on the wire.
    return TLCPError(_CERT_ALERTS.get(error.reason, A.BAD_CERTIFICATE), reason)


def _protection(suite: CipherSuite, kb: keys.KeyBlock, *, client_writes: bool):
    if suite.aead:
        return (
            GcmProtection(kb.client_key, kb.client_iv)
            if client_writes
            else GcmProtection(kb.server_key, kb.server_iv)
        )
    if client_writes:
        return CbcProtection(kb.client_mac, kb.client_key)
    return CbcProtection(kb.server_mac, kb.server_key)


class TLCPSocket:
    def __init__(
        self,
        sock: socket.socket,
        context: TLCPContext,
        *,
        server_hostname: str | None = None,
        session: Session | None = None,
    ) -> None:
        self._sock = sock
        self.context = context
        self.server_side = context.server_side
        self.server_hostname = server_hostname
        self._offered_session = session
        self._records = RecordLayer(sock)
        self._hs_buffer = b""
        self._transcript: list[bytes] = []
        self._app = b""
        self._app_pos = 0
        self._eof = False
        self._closed = False
        self._failed: TLCPError | None = None
        self._warnings = 0
        self._io_refs = 0
        self._write_lock = threading.Lock()
        self.handshake_done = False
        self.session: Session | None = None
        self.session_reused = False
        self.suite: CipherSuite | None = None
        self.peer_certificates: list[x509.Certificate] = []
        self.cert_verify_form: str | None = None

    # ------------------------------------------------------------ socket surface

    def fileno(self) -> int:
        return self._sock.fileno()

    def settimeout(self, value) -> None:
        self._sock.settimeout(value)

    def gettimeout(self):
        return self._sock.gettimeout()

    def setblocking(self, flag: bool) -> None:
        self._sock.setblocking(flag)

    def getpeername(self):
        return self._sock.getpeername()

    def getsockname(self):
        return self._sock.getsockname()

    def setsockopt(self, *args) -> None:
        self._sock.setsockopt(*args)

    def version(self) -> str | None:
        return "TLCP" if self.handshake_done else None

    def cipher(self) -> tuple[str, str, int] | None:
        return (self.suite.name, "TLCPv1.1", 128) if self.suite and self.handshake_done else None

    def pending(self) -> int:
        """Bytes already received and not yet returned by ``recv`` (decrypted or still raw): a
        poller on the socket would not see them."""
        return len(self._app) - self._app_pos + self._records.buffered

    # ------------------------------------------------------------ handshake driver

    def do_handshake(self, deadline: float | None = None) -> None:
        """Run the handshake. ``deadline`` (``time.monotonic()``) bounds all of it, default now +
        ``handshake_timeout``; a server passes the accept time's, so queueing counts too."""
        if self.handshake_done:
            return
        previous = self._sock.gettimeout()
        if deadline is None and self.context.handshake_timeout:
            deadline = time.monotonic() + self.context.handshake_timeout
        # One deadline for the whole handshake: a peer trickling bytes cannot hold a worker.
        self._records.deadline = deadline
        self._records.cork()
        try:
            if self.server_side:
                self._server_handshake()
            else:
                self._client_handshake()
            self._records.flush()
        except TLCPError as exc:
            self._fatal(exc)
            raise
        except x509.CertificateError as exc:
            error = certificate_alert(exc)
            self._fatal(error)
            raise error from None
        except (OSError, TimeoutError):
            self._abort()
            raise
        finally:
            self._records.deadline = None
            if not self._closed:
                self._sock.settimeout(previous)
        self.handshake_done = True

    def _fatal(self, error: TLCPError) -> None:
        self._failed = error
        if not isinstance(error, AlertReceived | ConnectionClosed):
            with contextlib.suppress(OSError, TLCPError):
                self._send_alert(AlertLevel.FATAL, error.alert)
                self._records.flush()
                self._drain()
        self._abort()

    def _drain(self) -> None:
        """Half-close and swallow what the peer already sent (bounded: 64 KiB, 0.2 s), so that it
        reads our alert instead of a TCP reset caused by unread data."""
        self._sock.shutdown(socket.SHUT_WR)
        self._sock.settimeout(0.2)
        received = 0
        while received < 65536:
            chunk = self._sock.recv(16384)
            if not chunk:
                break
            received += len(chunk)

    def _abort(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._sock.close()

    def _send_alert(self, level: AlertLevel, description: AlertDescription) -> None:
        with self._write_lock:
            self._records.write(ContentType.ALERT, bytes([level, description]))

    def _send_handshake(self, *encoded: bytes) -> None:
        for message in encoded:
            self._transcript.append(message)
        with self._write_lock:
            self._records.write_messages(ContentType.HANDSHAKE, list(encoded))

    def _handle_alert(self, body: bytes) -> None:
        if len(body) != 2:
            raise TLCPError(A.DECODE_ERROR, "alert record is not two bytes")
        level, description = body
        if level == AlertLevel.FATAL or description == A.CLOSE_NOTIFY:
            raise AlertReceived(description, level)
        self._warnings += 1
        if self._warnings > MAX_WARNINGS:
            raise TLCPError(A.UNEXPECTED_MESSAGE, "too many warning alerts")
        if description == A.NO_RENEGOTIATION:
            return
        log.info("tlcp warning alert %s from peer", description)

    def _read_handshake(self, *expected: HandshakeType) -> tuple[HandshakeType, bytes]:
        """The next handshake message, which must be one of ``expected``."""
        while True:
            if self._hs_buffer and self._hs_buffer[0] not in expected:
                # Refuse a wrong message at its first byte, before buffering up to 64 KiB of it.
                names = "/".join(e.name for e in expected)
                raise TLCPError(
                    A.UNEXPECTED_MESSAGE, f"expected {names}, got handshake type {self._hs_buffer[0]}"
                )
            if len(self._hs_buffer) >= 4:
                length = int.from_bytes(self._hs_buffer[1:4], "big")
                if length > MAX_HANDSHAKE_MESSAGE:
                    raise TLCPError(A.DECODE_ERROR, f"handshake message of {length} bytes exceeds the limit")
                if len(self._hs_buffer) >= 4 + length:
                    raw = self._hs_buffer[: 4 + length]
                    self._hs_buffer = self._hs_buffer[4 + length :]
                    msg_type = raw[0]
                    if msg_type not in expected:
                        names = "/".join(e.name for e in expected)
                        raise TLCPError(
                            A.UNEXPECTED_MESSAGE, f"expected {names}, got handshake type {msg_type}"
                        )
                    self._transcript.append(raw)
                    return HandshakeType(msg_type), raw[4:]
            content_type, body = self._records.read()
            if content_type == ContentType.HANDSHAKE:
                if not body:
                    raise TLCPError(A.DECODE_ERROR, "empty handshake record")
                self._hs_buffer += body
            elif content_type == ContentType.ALERT:
                self._handle_alert(body)
            else:
                raise TLCPError(
                    A.UNEXPECTED_MESSAGE, f"{ContentType(content_type).name} record during the handshake"
                )

    def _read_change_cipher_spec(self) -> None:
        while True:
            if self._hs_buffer:
                raise TLCPError(A.UNEXPECTED_MESSAGE, "ChangeCipherSpec inside a handshake message")
            content_type, body = self._records.read()
            if content_type == ContentType.ALERT:
                self._handle_alert(body)
                continue
            if content_type != ContentType.CHANGE_CIPHER_SPEC:
                raise TLCPError(A.UNEXPECTED_MESSAGE, "expected ChangeCipherSpec")
            if body != b"\x01":
                raise TLCPError(A.DECODE_ERROR, "malformed ChangeCipherSpec")
            return

    def _send_change_cipher_spec(self, protection) -> None:
        with self._write_lock:
            self._records.write(ContentType.CHANGE_CIPHER_SPEC, b"\x01")
            self._records.write_protection = protection

    def _transcript_hash(self) -> bytes:
        return sm3(b"".join(self._transcript))

    def _finished(self, master: bytes, label: bytes) -> bytes:
        return keys.verify_data(master, label, self._transcript_hash())

    def _check_finished(self, master: bytes, label: bytes) -> None:
        expected = self._finished(master, label)
        _, body = self._read_handshake(H.FINISHED)
        if not hmac.compare_digest(m.decode_finished(body), expected):
            raise TLCPError(A.DECRYPT_ERROR, "peer Finished does not verify")

    def _activate(self, master: bytes, client_random: bytes, server_random: bytes):
        kb = keys.key_block(master, client_random, server_random, self.suite)
        mine = _protection(self.suite, kb, client_writes=not self.server_side)
        theirs = _protection(self.suite, kb, client_writes=self.server_side)
        return mine, theirs

    def _parse_chain(self, ders: list[bytes]) -> list[x509.Certificate]:
        return [x509.Certificate.from_der(d) for d in ders]

    # ------------------------------------------------------------ server

    def _server_handshake(self) -> None:
        ctx = self.context
        creds = ctx.credentials
        _, body = self._read_handshake(H.CLIENT_HELLO)
        hello = m.ClientHello.decode(body)
        offered = set(hello.cipher_suites)
        suite = next((s for s in ctx.suites if s.code in offered), None)
        if suite is None:
            raise TLCPError(
                A.HANDSHAKE_FAILURE,
                "client offered no supported cipher suite "
                f"({', '.join(f'{c:#06x}' for c in hello.cipher_suites[:12])})",
            )
        server_random = secrets.token_bytes(RANDOM_SIZE)
        cached = ctx.sessions.get(hello.session_id) if hello.session_id else None
        if cached is not None and cached.suite in offered and cached.suite in {s.code for s in ctx.suites}:
            self._server_resume(hello, cached, server_random)
            return
        self.suite = suite
        session_id = secrets.token_bytes(32) if ctx.sessions.size > 0 else b""
        flight = [
            m.ServerHello(server_random, session_id, suite.code).encode(),
            m.encode_certificate(creds.certificate_list()),
        ]
        ephemeral = None
        if suite.ecdhe:
            ephemeral = SM2PrivateKey.generate()
            params = m.EcdheParams(ephemeral.public_key().to_bytes())
            signature = creds.sign_key.sign(hello.random + server_random + params.encode())
            flight.append(m.ServerKeyExchange(signature, params).encode())
        else:
            tbs = keys.server_key_exchange_tbs(hello.random, server_random, creds.enc_cert.der)
            flight.append(m.ServerKeyExchange(creds.sign_key.sign(tbs)).encode())
        want_client_cert = suite.ecdhe or ctx.client_auth != "none"
        if want_client_cert:
            names = [a.subject.der for a in ctx.trust_anchors]
            flight.append(m.CertificateRequest(authorities=names).encode())
        flight.append(m.encode_server_hello_done())
        self._send_handshake(*flight)

        client_chain: list[x509.Certificate] = []
        if want_client_cert:
            _, body = self._read_handshake(H.CERTIFICATE)
            client_chain = self._parse_chain(m.decode_certificate(body))
            self._check_client_chain(client_chain, suite)
        _, body = self._read_handshake(H.CLIENT_KEY_EXCHANGE)
        payload = m.decode_client_key_exchange(body, ecdhe=suite.ecdhe)
        if suite.ecdhe:
            try:
                peer_point = SM2PublicKey.from_bytes(payload)
            except CryptoError:
                raise TLCPError(A.ILLEGAL_PARAMETER, "client ECDHE point is not on the SM2 curve") from None
            pre_master = ecdhe.shared_secret(
                own_static=creds.enc_key,
                own_ephemeral=ephemeral,
                peer_static=client_chain[1].public_key,
                peer_ephemeral=peer_point,
                initiator=True,
            )
        else:
            pre_master = self._decrypt_pre_master(payload)
        if client_chain:
            transcript = b"".join(self._transcript)
            _, body = self._read_handshake(H.CERTIFICATE_VERIFY)
            self._check_certificate_verify(m.decode_certificate_verify(body), client_chain[0], transcript)
        master = keys.master_secret(pre_master, hello.random, server_random)
        mine, theirs = self._activate(master, hello.random, server_random)
        self._read_change_cipher_spec()
        self._records.read_protection = theirs
        self._check_finished(master, b"client finished")
        self._send_change_cipher_spec(mine)
        self._send_handshake(m.encode_finished(self._finished(master, b"server finished")))
        self.peer_certificates = client_chain
        self.session = Session(session_id, master, suite.code, tuple(client_chain))
        if session_id:
            ctx.sessions.put(self.session)

    def _server_resume(self, hello: m.ClientHello, cached: Session, server_random: bytes) -> None:
        self.suite = SUITES[cached.suite]
        self.session_reused = True
        self._send_handshake(m.ServerHello(server_random, cached.session_id, cached.suite).encode())
        mine, theirs = self._activate(cached.master_secret, hello.random, server_random)
        self._send_change_cipher_spec(mine)
        self._send_handshake(m.encode_finished(self._finished(cached.master_secret, b"server finished")))
        self._read_change_cipher_spec()
        self._records.read_protection = theirs
        self._check_finished(cached.master_secret, b"client finished")
        self.session = cached
        self.peer_certificates = list(cached.peer_certificates)

    def _check_client_chain(self, chain: list[x509.Certificate], suite: CipherSuite) -> None:
        ctx = self.context
        if not chain:
            if suite.ecdhe:
                raise TLCPError(A.HANDSHAKE_FAILURE, "ECDHE suite without the client's double certificates")
            if ctx.client_auth == "required":
                raise TLCPError(A.HANDSHAKE_FAILURE, "client sent no certificate but one is required")
            return
        if suite.ecdhe and len(chain) < 2:
            raise TLCPError(A.HANDSHAKE_FAILURE, "ECDHE suite needs the client's encryption certificate")
        if ctx.verify_peer:
            rest = chain[2:] if suite.ecdhe else chain[1:]
            ctx.verify_peer_chain([chain[0], *rest], role="sign", hostname=None)
            if suite.ecdhe:
                ctx.verify_peer_chain([chain[1], *rest], role="enc", hostname=None, pinned=False)

    def _decrypt_pre_master(self, payload: bytes) -> bytes:
        """The pre-master secret, or a random one: never reveal which step failed."""
        fallback = secrets.token_bytes(PRE_MASTER_SECRET_SIZE)
        try:
            pre_master = self.context.credentials.enc_key.decrypt(payload, form="asn1")
        except CryptoError:
            return fallback
        if len(pre_master) != PRE_MASTER_SECRET_SIZE or pre_master[:2] != VERSION_BYTES:
            return fallback
        return pre_master

    def _check_certificate_verify(self, signature: bytes, cert: x509.Certificate, transcript: bytes) -> None:
        key = cert.public_key
        forms = self.context.cert_verify_forms
        try:
            if "hash" in forms and key.verify(signature, sm3(transcript)):
                self.cert_verify_form = "hash"
                return
            if "raw" in forms and key.verify(signature, transcript):
                self.cert_verify_form = "raw"
                return
        except CryptoError:
            raise TLCPError(A.DECODE_ERROR, "CertificateVerify signature is not DER") from None
        raise TLCPError(A.DECRYPT_ERROR, "CertificateVerify signature does not verify")

    # ------------------------------------------------------------ client

    def _client_handshake(self) -> None:
        ctx = self.context
        offered_session = self._offered_session
        suites = ctx.offered_suites()
        if not suites:
            raise TLCPError(
                A.HANDSHAKE_FAILURE, "no cipher suite to offer (ECDHE needs client double certificates)"
            )
        client_random = secrets.token_bytes(RANDOM_SIZE)
        session_id = offered_session.session_id if offered_session else b""
        self._send_handshake(m.ClientHello(client_random, session_id, [s.code for s in suites]).encode())
        _, body = self._read_handshake(H.SERVER_HELLO)
        hello = m.ServerHello.decode(body)
        if hello.cipher_suite not in {s.code for s in suites}:
            raise TLCPError(A.ILLEGAL_PARAMETER, f"server chose suite {hello.cipher_suite:#06x}, not offered")
        self.suite = SUITES[hello.cipher_suite]
        if offered_session and hello.session_id == offered_session.session_id:
            if hello.cipher_suite != offered_session.suite:
                raise TLCPError(A.ILLEGAL_PARAMETER, "resumed session with a different cipher suite")
            self._client_resume(client_random, hello, offered_session)
            return

        _, body = self._read_handshake(H.CERTIFICATE)
        chain = self._parse_chain(m.decode_certificate(body))
        if len(chain) < 2:
            raise TLCPError(
                A.BAD_CERTIFICATE, "server sent fewer than two certificates (signing + encryption)"
            )
        sign_cert, enc_cert = chain[0], chain[1]
        if ctx.verify_peer:
            ctx.verify_peer_chain([sign_cert, *chain[2:]], role="sign", hostname=self.server_hostname)
            ctx.verify_peer_chain([enc_cert, *chain[2:]], role="enc", hostname=None, pinned=False)
        else:
            x509.check_key_usage(sign_cert, "sign")
            x509.check_key_usage(enc_cert, "enc")
        _, body = self._read_handshake(H.SERVER_KEY_EXCHANGE)
        ske = m.ServerKeyExchange.decode(body, ecdhe=self.suite.ecdhe)
        if self.suite.ecdhe:
            signed = client_random + hello.random + ske.params.encode()
        else:
            signed = keys.server_key_exchange_tbs(client_random, hello.random, enc_cert.der)
        try:
            valid = sign_cert.public_key.verify(ske.signature, signed)
        except CryptoError:
            raise TLCPError(A.DECODE_ERROR, "ServerKeyExchange signature is not DER") from None
        if not valid:
            raise TLCPError(A.DECRYPT_ERROR, "ServerKeyExchange signature does not verify")
        msg_type, body = self._read_handshake(H.CERTIFICATE_REQUEST, H.SERVER_HELLO_DONE)
        requested = msg_type == H.CERTIFICATE_REQUEST
        if requested:
            m.CertificateRequest.decode(body)
            _, body = self._read_handshake(H.SERVER_HELLO_DONE)
        if body:
            raise TLCPError(A.DECODE_ERROR, "ServerHelloDone is not empty")
        if self.suite.ecdhe and not requested:
            raise TLCPError(A.UNEXPECTED_MESSAGE, "ECDHE suite without a CertificateRequest")

        creds = ctx.credentials
        flight = []
        if requested:
            flight.append(m.encode_certificate(self._client_certificate_list(creds)))
        if self.suite.ecdhe:
            ephemeral = SM2PrivateKey.generate()
            try:
                server_point = SM2PublicKey.from_bytes(ske.params.point)
            except CryptoError:
                raise TLCPError(A.ILLEGAL_PARAMETER, "server ECDHE point is not on the SM2 curve") from None
            pre_master = ecdhe.shared_secret(
                own_static=creds.enc_key,
                own_ephemeral=ephemeral,
                peer_static=enc_cert.public_key,
                peer_ephemeral=server_point,
                initiator=False,
            )
            payload = m.EcdheParams(ephemeral.public_key().to_bytes()).encode()
        else:
            pre_master, payload = self._ecc_pre_master(enc_cert)
        flight.append(m.encode_client_key_exchange(payload, ecdhe=self.suite.ecdhe))
        for message in flight:
            self._transcript.append(message)
        if requested and creds:
            transcript = b"".join(self._transcript)
            signed = transcript if ctx.cert_verify_sign_form == "raw" else sm3(transcript)
            signature = creds.sign_key.sign(signed)
            verify = m.encode_signature_message(H.CERTIFICATE_VERIFY, signature)
            self._transcript.append(verify)
            flight.append(verify)
        with self._write_lock:
            self._records.write_messages(ContentType.HANDSHAKE, flight)
        master = keys.master_secret(pre_master, client_random, hello.random)
        mine, theirs = self._activate(master, client_random, hello.random)
        self._send_change_cipher_spec(mine)
        self._send_handshake(m.encode_finished(self._finished(master, b"client finished")))
        self._read_change_cipher_spec()
        self._records.read_protection = theirs
        self._check_finished(master, b"server finished")
        self.peer_certificates = chain
        self.session = Session(hello.session_id, master, self.suite.code, tuple(chain))

    def _ecc_pre_master(self, enc_cert: x509.Certificate) -> tuple[bytes, bytes]:
        """(pre-master secret, its DER SM2Cipher encrypted to the server's encryption key)."""
        pre_master = VERSION_BYTES + secrets.token_bytes(PRE_MASTER_SECRET_SIZE - 2)
        return pre_master, enc_cert.public_key.encrypt(pre_master, form="asn1")

    def _client_certificate_list(self, creds) -> list[bytes]:
        """Signing certificate, encryption certificate, chain (GB/T 38636; Tongsuo refuses fewer
        than two). With ``client_certificates="single"`` and an ECC suite, the signing certificate
        and its chain only: GmSSL reads the list as one chain and rejects an encryption certificate
        in the issuer's place. ECDHE always needs both."""
        if creds is None:
            return []
        if self.suite.ecdhe or self.context.client_certificates == "double":
            return creds.certificate_list()
        return [creds.sign_cert.der] + [c.der for c in creds.chain]

    def _client_resume(self, client_random: bytes, hello: m.ServerHello, session: Session) -> None:
        self.session_reused = True
        mine, theirs = self._activate(session.master_secret, client_random, hello.random)
        self._read_change_cipher_spec()
        self._records.read_protection = theirs
        self._check_finished(session.master_secret, b"server finished")
        self._send_change_cipher_spec(mine)
        self._send_handshake(m.encode_finished(self._finished(session.master_secret, b"client finished")))
        self.session = session
        self.peer_certificates = list(session.peer_certificates)

    # ------------------------------------------------------------ application data

    def _fill(self) -> bool:
        """Read records until application data arrives; False at a clean end of stream."""
        while True:
            try:
                content_type, body = self._records.read()
            except ConnectionClosed:
                self._eof = True
                return False
            if content_type == ContentType.APPLICATION_DATA:
                if body:
                    self._app, self._app_pos = body, 0
                    return True
                continue
            if content_type == ContentType.ALERT:
                try:
                    self._handle_alert(body)
                except AlertReceived as exc:
                    if exc.code == A.CLOSE_NOTIFY:
                        self._eof = True
                        return False
                    raise
                continue
            if content_type == ContentType.HANDSHAKE:
                # A ClientHello (server side) or HelloRequest (client side): renegotiation is refused.
                self._warnings += 1
                if self._warnings > MAX_WARNINGS:
                    raise TLCPError(A.UNEXPECTED_MESSAGE, "peer keeps asking to renegotiate")
                self._send_alert(AlertLevel.WARNING, A.NO_RENEGOTIATION)
                log.info("tlcp renegotiation refused")
                continue
            raise TLCPError(A.UNEXPECTED_MESSAGE, "ChangeCipherSpec after the handshake")

    def _guard(self) -> None:
        if self._failed is not None:
            raise self._failed
        if not self.handshake_done:
            self.do_handshake()

    def recv(self, bufsize: int = 65536, flags: int = 0) -> bytes:
        self._guard()
        if self._app_pos >= len(self._app):
            if self._eof:
                return b""
            try:
                if not self._fill():
                    return b""
            except TLCPError as exc:
                self._fatal(exc)
                raise
        chunk = self._app[self._app_pos : self._app_pos + bufsize]
        self._app_pos += len(chunk)
        return chunk

    def read(self, bufsize: int = 65536) -> bytes:
        return self.recv(bufsize)

    def recv_into(self, buffer, nbytes: int = 0, flags: int = 0) -> int:
        view = memoryview(buffer)
        data = self.recv(nbytes or len(view))
        view[: len(data)] = data
        return len(data)

    def sendall(self, data, flags: int = 0) -> None:
        self._guard()
        data = bytes(data)
        if not data:
            return
        with self._write_lock:
            self._records.write(ContentType.APPLICATION_DATA, data)

    def send(self, data, flags: int = 0) -> int:
        self.sendall(data)
        return len(data)

    def write(self, data) -> int:
        return self.send(data)

    def makefile(
        self, mode: str = "r", buffering: int | None = None, *, encoding=None, errors=None, newline=None
    ):
        """A file over the connection, like ``socket.makefile`` (http.client reads responses so)."""
        self._io_refs += 1
        raw = _RawIO(self, mode)
        if buffering == 0:
            return raw
        size = buffering if buffering and buffering > 0 else io.DEFAULT_BUFFER_SIZE
        if "r" in mode and "w" in mode:
            buffered = io.BufferedRWPair(raw, raw, size)
        elif "w" in mode:
            buffered = io.BufferedWriter(raw, size)
        else:
            buffered = io.BufferedReader(raw, size)
        if "b" in mode:
            return buffered
        return io.TextIOWrapper(buffered, encoding, errors, newline)

    def _decref(self) -> None:
        self._io_refs -= 1
        if self._io_refs <= 0 and self._closed_requested:
            self._real_close()

    _closed_requested = False
    _close_notify_sent = False

    def unwrap(self) -> socket.socket:
        """Send close_notify and hand back the plain socket."""
        if self.handshake_done and not self._closed and self._failed is None and not self._close_notify_sent:
            self._close_notify_sent = True
            with contextlib.suppress(OSError, TLCPError):
                self._send_alert(AlertLevel.WARNING, A.CLOSE_NOTIFY)
        return self._sock

    def shutdown(self, how: int) -> None:
        try:
            self.unwrap()
            self._sock.shutdown(how)
        except OSError:
            pass

    def close(self) -> None:
        self._closed_requested = True
        if self._io_refs <= 0:
            self._real_close()

    def _real_close(self) -> None:
        if self._closed:
            return
        self.unwrap()
        self._abort()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _RawIO(io.RawIOBase):
    def __init__(self, conn: TLCPSocket, mode: str) -> None:
        super().__init__()
        self._conn, self._mode = conn, mode

    def readable(self) -> bool:
        return "r" in self._mode or "w" not in self._mode

    def writable(self) -> bool:
        return "w" in self._mode

    def readinto(self, buffer) -> int:
        return self._conn.recv_into(buffer)

    def write(self, data) -> int:
        self._conn.sendall(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            super().close()
            self._conn._decref()
