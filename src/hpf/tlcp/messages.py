"""TLCP handshake messages: strict encoders and decoders.

Every decoder reads through ``Reader``, which refuses lengths that run past the message and
trailing bytes, so a malformed message is always a ``decode_error`` alert and never an
IndexError in a worker. No SignatureAndHashAlgorithm fields anywhere: TLCP keeps TLS 1.1's
message shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hpf.tlcp.constants import CURVE_SM2, RANDOM_SIZE, VERSION, AlertDescription, HandshakeType
from hpf.tlcp.errors import TLCPError

MAX_SESSION_ID = 32
MAX_CERTIFICATES = 10


class Reader:
    def __init__(self, data: bytes, what: str) -> None:
        self.data, self.pos, self.what = data, 0, what

    def _fail(self, detail: str) -> TLCPError:
        return TLCPError(AlertDescription.DECODE_ERROR, f"malformed {self.what}: {detail}")

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise self._fail("truncated")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def uint(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def vector(self, length_size: int, *, minimum: int = 0, maximum: int | None = None) -> bytes:
        n = self.uint(length_size)
        if n < minimum or (maximum is not None and n > maximum):
            raise self._fail(f"vector length {n} out of range")
        return self.take(n)

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

    def done(self) -> None:
        if self.pos != len(self.data):
            raise self._fail("trailing bytes")


def vec(data: bytes, length_size: int) -> bytes:
    return len(data).to_bytes(length_size, "big") + data


def frame(msg_type: HandshakeType, body: bytes) -> bytes:
    return bytes([msg_type]) + len(body).to_bytes(3, "big") + body


def _version(r: Reader) -> int:
    version = r.uint(2)
    if version != VERSION:
        raise TLCPError(
            AlertDescription.PROTOCOL_VERSION, f"{r.what} version {version:#06x} is not TLCP 0x0101"
        )
    return version


@dataclass
class ClientHello:
    random: bytes
    session_id: bytes
    cipher_suites: list[int]
    compression_methods: bytes = b"\x00"
    extensions: bytes = b""  # kept raw: TLCP defines none we act on

    def encode(self) -> bytes:
        suites = b"".join(c.to_bytes(2, "big") for c in self.cipher_suites)
        body = (
            VERSION.to_bytes(2, "big")
            + self.random
            + vec(self.session_id, 1)
            + vec(suites, 2)
            + vec(self.compression_methods, 1)
        )
        if self.extensions:
            body += vec(self.extensions, 2)
        return frame(HandshakeType.CLIENT_HELLO, body)

    @classmethod
    def decode(cls, body: bytes) -> ClientHello:
        r = Reader(body, "ClientHello")
        _version(r)
        random = r.take(RANDOM_SIZE)
        session_id = r.vector(1, maximum=MAX_SESSION_ID)
        raw = r.vector(2, minimum=2, maximum=0xFFFE)
        if len(raw) % 2:
            raise r._fail("odd cipher suite list")
        compression = r.vector(1, minimum=1)
        if 0 not in compression:
            raise TLCPError(AlertDescription.ILLEGAL_PARAMETER, "client does not offer null compression")
        extensions = r.vector(2) if r.remaining else b""
        r.done()
        suites = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
        return cls(random, session_id, suites, compression, extensions)


@dataclass
class ServerHello:
    random: bytes
    session_id: bytes
    cipher_suite: int
    extensions: bytes = b""

    def encode(self) -> bytes:
        body = (
            VERSION.to_bytes(2, "big")
            + self.random
            + vec(self.session_id, 1)
            + self.cipher_suite.to_bytes(2, "big")
            + b"\x00"
        )
        if self.extensions:
            body += vec(self.extensions, 2)
        return frame(HandshakeType.SERVER_HELLO, body)

    @classmethod
    def decode(cls, body: bytes) -> ServerHello:
        r = Reader(body, "ServerHello")
        _version(r)
        random = r.take(RANDOM_SIZE)
        session_id = r.vector(1, maximum=MAX_SESSION_ID)
        suite = r.uint(2)
        if r.uint(1) != 0:
            raise TLCPError(AlertDescription.ILLEGAL_PARAMETER, "server chose a compression method")
        extensions = r.vector(2) if r.remaining else b""
        r.done()
        return cls(random, session_id, suite, extensions)


def encode_certificate(chain: list[bytes]) -> bytes:
    return frame(HandshakeType.CERTIFICATE, vec(b"".join(vec(c, 3) for c in chain), 3))


def decode_certificate(body: bytes) -> list[bytes]:
    r = Reader(body, "Certificate")
    inner = Reader(r.vector(3), "Certificate list")
    r.done()
    chain = []
    while inner.remaining:
        if len(chain) >= MAX_CERTIFICATES:
            raise inner._fail("too many certificates")
        chain.append(inner.vector(3, minimum=1))
    return chain


@dataclass
class EcdheParams:
    point: bytes  # 65 bytes, 04 ‖ x ‖ y

    def encode(self) -> bytes:
        return b"\x03" + CURVE_SM2.to_bytes(2, "big") + vec(self.point, 1)

    @classmethod
    def read(cls, r: Reader) -> EcdheParams:
        if r.uint(1) != 3 or r.uint(2) != CURVE_SM2:
            raise TLCPError(AlertDescription.ILLEGAL_PARAMETER, "ECDHE parameters are not named curve SM2")
        point = r.vector(1, minimum=65, maximum=65)
        if point[0] != 4:
            raise TLCPError(AlertDescription.ILLEGAL_PARAMETER, "ECDHE point is not uncompressed")
        return cls(point)


@dataclass
class ServerKeyExchange:
    signature: bytes
    params: EcdheParams | None = None

    def encode(self) -> bytes:
        prefix = self.params.encode() if self.params else b""
        return frame(HandshakeType.SERVER_KEY_EXCHANGE, prefix + vec(self.signature, 2))

    @classmethod
    def decode(cls, body: bytes, *, ecdhe: bool) -> ServerKeyExchange:
        r = Reader(body, "ServerKeyExchange")
        params = EcdheParams.read(r) if ecdhe else None
        signature = r.vector(2, minimum=8, maximum=80)
        r.done()
        return cls(signature, params)


@dataclass
class CertificateRequest:
    certificate_types: bytes = bytes([64])
    authorities: list[bytes] = field(default_factory=list)  # DER subject names of acceptable CAs

    def encode(self) -> bytes:
        names = b"".join(vec(n, 2) for n in self.authorities)
        return frame(HandshakeType.CERTIFICATE_REQUEST, vec(self.certificate_types, 1) + vec(names, 2))

    @classmethod
    def decode(cls, body: bytes) -> CertificateRequest:
        r = Reader(body, "CertificateRequest")
        types = r.vector(1, minimum=1)
        inner = Reader(r.vector(2), "CertificateRequest authorities")
        # GmSSL 3.x adds nothing after the authorities; tolerate nothing else either.
        r.done()
        names = []
        while inner.remaining:
            names.append(inner.vector(2, minimum=1))
        return cls(types, names)


def encode_server_hello_done() -> bytes:
    return frame(HandshakeType.SERVER_HELLO_DONE, b"")


def encode_client_key_exchange(payload: bytes, *, ecdhe: bool) -> bytes:
    """ECC: the DER SM2Cipher in a uint16 vector. ECDHE: the bare ECParameters ‖ ECPoint
    (what Tongsuo and gotlcp send; GmSSL wraps it in a vector, which ``decode`` also accepts)."""
    return frame(HandshakeType.CLIENT_KEY_EXCHANGE, payload if ecdhe else vec(payload, 2))


def decode_client_key_exchange(body: bytes, *, ecdhe: bool) -> bytes:
    r = Reader(body, "ClientKeyExchange")
    if ecdhe:
        if len(body) == 71 and body[:2] == (69).to_bytes(2, "big"):
            r = Reader(body[2:], "ClientKeyExchange")  # GmSSL's vector-wrapped form
        point = EcdheParams.read(r).point
        r.done()
        return point
    payload = r.vector(2, minimum=1, maximum=512)
    r.done()
    return payload


def encode_signature_message(msg_type: HandshakeType, signature: bytes) -> bytes:
    return frame(msg_type, vec(signature, 2))


def decode_certificate_verify(body: bytes) -> bytes:
    r = Reader(body, "CertificateVerify")
    signature = r.vector(2, minimum=8, maximum=80)
    r.done()
    return signature


def encode_finished(verify_data: bytes) -> bytes:
    return frame(HandshakeType.FINISHED, verify_data)


def decode_finished(body: bytes) -> bytes:
    if len(body) != 12:
        raise TLCPError(AlertDescription.DECODE_ERROR, f"Finished of {len(body)} bytes, not 12")
    return body
