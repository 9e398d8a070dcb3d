"""The TLCP record layer: framing, size limits and record protection.

CBC suites are MAC-then-encrypt with a fresh explicit IV per record (TLS 1.1 style):
``IV ‖ SM4-CBC(plaintext ‖ HMAC-SM3(mac_key, seq ‖ type ‖ 0x0101 ‖ len ‖ plaintext) ‖ padding)``.
GCM suites send ``explicit nonce(8) ‖ ciphertext ‖ tag(16)`` with nonce = implicit IV(4) ‖
explicit(8) (the sequence number) and AAD = seq ‖ type ‖ version ‖ plaintext length.

The reader never buffers more than one record (at most 2^14 + 2048 bytes of body plus a
5-byte header), so a peer cannot grow a worker's memory by sending more.
"""

from __future__ import annotations

import hmac as _hmac
import secrets
import time

from hpf.crypto.errors import InvalidTag
from hpf.crypto.providers import Provider, active
from hpf.tlcp.constants import (
    MAX_CIPHERTEXT,
    MAX_PLAINTEXT,
    VERSION,
    VERSION_BYTES,
    AlertDescription,
    ContentType,
)
from hpf.tlcp.errors import ConnectionClosed, TLCPError

HEADER_SIZE = 5
MAC_SIZE = 32
BLOCK = 16
GCM_EXPLICIT = 8
GCM_TAG = 16
_TYPES = frozenset(int(t) for t in ContentType)
_SEQ_LIMIT = (1 << 64) - 1


def header(content_type: int, length: int) -> bytes:
    return bytes([content_type]) + VERSION_BYTES + length.to_bytes(2, "big")


def parse_header(head: bytes, *, protected: bool) -> tuple[int, int]:
    """(type, length) of a 5-byte record header, or the alert a bad header deserves."""
    content_type, version, length = (
        head[0],
        int.from_bytes(head[1:3], "big"),
        int.from_bytes(head[3:5], "big"),
    )
    if content_type not in _TYPES:
        raise TLCPError(AlertDescription.UNEXPECTED_MESSAGE, f"unknown record type {content_type}")
    if version != VERSION:
        raise TLCPError(
            AlertDescription.PROTOCOL_VERSION, f"record version {version:#06x} is not TLCP 0x0101"
        )
    if length > (MAX_CIPHERTEXT if protected else MAX_PLAINTEXT):
        raise TLCPError(AlertDescription.RECORD_OVERFLOW, f"record of {length} bytes exceeds the limit")
    return content_type, length


class NullProtection:
    """Before ChangeCipherSpec: records travel in the clear."""

    protected = False

    def seal(self, content_type: int, plaintext: bytes) -> bytes:
        return plaintext

    def open(self, content_type: int, fragment: bytes) -> bytes:
        return fragment


class _Sequenced:
    """A protected direction: records are numbered from 0 and the number may never wrap."""

    protected = True
    seq = 0

    def _next_seq(self) -> int:
        seq = self.seq
        if seq >= _SEQ_LIMIT:
            raise TLCPError(AlertDescription.INTERNAL_ERROR, "sequence number exhausted")
        self.seq = seq + 1
        return seq


class CbcProtection(_Sequenced):
    def __init__(self, mac_key: bytes, key: bytes, *, provider: Provider | None = None) -> None:
        engine = provider or active()
        self._hmac, self._sm4 = engine.sm3.hmac, engine.sm4
        self._mac_key, self._key = mac_key, key
        self.seq = 0

    def _mac(self, seq: int, content_type: int, plaintext: bytes) -> bytes:
        return self._hmac(
            self._mac_key, seq.to_bytes(8, "big") + header(content_type, len(plaintext)) + plaintext
        )

    def seal(self, content_type: int, plaintext: bytes, *, _iv: bytes | None = None) -> bytes:
        data = plaintext + self._mac(self._next_seq(), content_type, plaintext)
        pad = BLOCK - (len(data) + 1) % BLOCK if (len(data) + 1) % BLOCK else 0
        data += bytes([pad]) * (pad + 1)
        iv = _iv or secrets.token_bytes(BLOCK)
        return iv + self._sm4.cbc_encrypt(self._key, iv, data)

    def open(self, content_type: int, fragment: bytes) -> bytes:
        seq = self._next_seq()
        if len(fragment) < BLOCK + 3 * BLOCK or len(fragment) % BLOCK:
            # explicit IV + at least MAC(32) and one padding byte, rounded up to whole blocks
            raise TLCPError(
                AlertDescription.BAD_RECORD_MAC, "CBC record length is not a whole number of blocks"
            )
        data = self._sm4.cbc_decrypt(self._key, fragment[:BLOCK], fragment[BLOCK:])
        pad = data[-1]
        # Check padding and MAC without an early exit on bad padding, so timing does not say
        # which of the two failed (the padding-oracle countermeasure of RFC 5246 §6.2.3.2).
        good_pad = pad + 1 + MAC_SIZE <= len(data)
        cut = len(data) - pad - 1 if good_pad else len(data) - 1
        if good_pad:
            good_pad = _hmac.compare_digest(data[cut:-1], bytes([pad]) * pad)
        body_end = cut - MAC_SIZE if cut >= MAC_SIZE else 0
        plaintext, mac = data[:body_end], data[body_end:cut]
        expected = self._mac(seq, content_type, plaintext)
        if not (_hmac.compare_digest(expected, mac) and good_pad):
            raise TLCPError(AlertDescription.BAD_RECORD_MAC, "record MAC or padding does not verify")
        if len(plaintext) > MAX_PLAINTEXT:
            raise TLCPError(AlertDescription.RECORD_OVERFLOW, "decrypted record exceeds 2^14 bytes")
        return plaintext


class GcmProtection(_Sequenced):
    def __init__(self, key: bytes, implicit_iv: bytes, *, provider: Provider | None = None) -> None:
        self._sm4 = (provider or active()).sm4
        self._key, self._iv = key, implicit_iv
        self.seq = 0

    @staticmethod
    def aad(seq: int, content_type: int, length: int) -> bytes:
        return seq.to_bytes(8, "big") + header(content_type, length)

    def seal(self, content_type: int, plaintext: bytes) -> bytes:
        seq = self._next_seq()
        explicit = seq.to_bytes(8, "big")  # the sequence number never repeats under this key
        sealed = self._sm4.gcm_encrypt(
            self._key, self._iv + explicit, plaintext, self.aad(seq, content_type, len(plaintext))
        )
        return explicit + sealed

    def open(self, content_type: int, fragment: bytes) -> bytes:
        seq = self._next_seq()
        if len(fragment) < GCM_EXPLICIT + GCM_TAG:
            raise TLCPError(AlertDescription.BAD_RECORD_MAC, "GCM record shorter than nonce and tag")
        length = len(fragment) - GCM_EXPLICIT - GCM_TAG
        if length > MAX_PLAINTEXT:
            raise TLCPError(AlertDescription.RECORD_OVERFLOW, "GCM record exceeds 2^14 bytes of plaintext")
        try:
            return self._sm4.gcm_decrypt(
                self._key,
                self._iv + fragment[:GCM_EXPLICIT],
                fragment[GCM_EXPLICIT:],
                self.aad(seq, content_type, length),
            )
        except InvalidTag:
            raise TLCPError(AlertDescription.BAD_RECORD_MAC, "GCM tag does not verify") from None


class RecordLayer:
    """Reads and writes records on a blocking socket, with the current read/write protection.

    Reads go through a buffer (one ``recv`` usually brings a whole flight), bounded by one maximum
    record plus one ``recv``. Writes can be corked so that a handshake flight (e.g. Certificate,
    ClientKeyExchange, CertificateVerify, ChangeCipherSpec, Finished) leaves in one ``sendall``.
    ``deadline`` (a ``time.monotonic()`` value) bounds the whole handshake, not each read.
    """

    RECV_SIZE = 32768

    def __init__(self, sock) -> None:
        self.sock = sock
        self.read_protection = NullProtection()
        self.write_protection = NullProtection()
        self.deadline: float | None = None
        self._buffer = bytearray()
        self._corked: list[bytes] | None = None

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def _arm(self) -> None:
        """Give the next socket call only the time left before the deadline (if one is set)."""
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("TLCP handshake deadline passed")
            self.sock.settimeout(remaining)

    def _send(self, data: bytes) -> None:
        self._arm()
        self.sock.sendall(data)

    def _fill(self, n: int, *, at_boundary: bool) -> None:
        while len(self._buffer) < n:
            self._arm()
            chunk = self.sock.recv(max(self.RECV_SIZE, n - len(self._buffer)))
            if not chunk:
                if at_boundary and not self._buffer:
                    raise ConnectionClosed()
                raise ConnectionClosed("connection closed in the middle of a record")
            self._buffer += chunk

    def read(self) -> tuple[int, bytes]:
        """One record: (content type, plaintext). A corked flight is sent first: we are about to
        wait for the peer's answer to it."""
        if self._corked:
            self._send(b"".join(self._corked))
            self._corked = []
        self._fill(HEADER_SIZE, at_boundary=True)
        content_type, length = parse_header(
            bytes(self._buffer[:HEADER_SIZE]), protected=self.read_protection.protected
        )
        self._fill(HEADER_SIZE + length, at_boundary=False)
        body = bytes(self._buffer[HEADER_SIZE : HEADER_SIZE + length])
        del self._buffer[: HEADER_SIZE + length]
        return content_type, self.read_protection.open(content_type, body)

    def write(self, content_type: int, data: bytes) -> None:
        """Fragment ``data`` into records of at most 2^14 bytes and send them in one write."""
        self.write_messages(content_type, [data])

    def write_messages(self, content_type: int, messages: list[bytes]) -> None:
        """Each message starts its own record(s); all go out in one write. GmSSL 3.x requires
        exactly one handshake message per record, which TLS allows and every peer accepts."""
        out = []
        for data in messages:
            view = memoryview(data)
            for start in range(0, max(len(data), 1), MAX_PLAINTEXT):
                chunk = bytes(view[start : start + MAX_PLAINTEXT])
                fragment = self.write_protection.seal(content_type, chunk)
                out.append(header(content_type, len(fragment)))
                out.append(fragment)
        if self._corked is not None:
            self._corked.extend(out)
        else:
            self._send(b"".join(out))

    def cork(self) -> None:
        self._corked = []

    def flush(self) -> None:
        pending, self._corked = self._corked, None
        if pending:
            self._send(b"".join(pending))
