"""TLCP parsers and the server handshake under arbitrary input: TLCPError, or a closed/timed-out
transport, and nothing else; no hang, and no more read than one record (or one bounded handshake
message) before the alert goes out.

Hypothesis runs derandomized (fixed examples), so CI sees the same inputs every run.
"""

from __future__ import annotations

import random
import socket
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpf.tlcp import (
    ECC_SM4_CBC_SM3,
    ECC_SM4_GCM_SM3,
    ECDHE_SM4_GCM_SM3,
    AlertDescription,
    TLCPContext,
    TLCPError,
)
from hpf.tlcp import messages as m
from hpf.tlcp.constants import (
    MAX_CIPHERTEXT,
    MAX_HANDSHAKE_MESSAGE,
    MAX_PLAINTEXT,
    ContentType,
    HandshakeType,
)
from hpf.tlcp.record import CbcProtection, GcmProtection, RecordLayer, parse_header
from tests.unit.tlcp_support import Pki

A = AlertDescription
FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
LIVE = settings(FUZZ, max_examples=60)
HANDSHAKE_TIMEOUT = 2.0
RECORD = ContentType.HANDSHAKE


def record(content_type: int, body: bytes, version: bytes = b"\x01\x01") -> bytes:
    return bytes([content_type]) + version + len(body).to_bytes(2, "big") + body


def client_hello(suites=(ECC_SM4_GCM_SM3.code, ECC_SM4_CBC_SM3.code), session_id: bytes = b"") -> bytes:
    return m.ClientHello(bytes(range(32)), session_id, list(suites)).encode()


# ----- valid message bodies, the seeds the mutations start from ---------------------------------

POINT = b"\x04" + bytes(range(1, 65))
VALID_BODIES = {
    "client_hello": client_hello()[4:],
    "client_hello_ext": m.ClientHello(bytes(32), bytes(32), [0xE053], b"\x00", b"\x00\x0d\x00\x00").encode()[
        4:
    ],
    "server_hello": m.ServerHello(bytes(32), bytes(32), 0xE053).encode()[4:],
    "certificate": m.encode_certificate([b"\x30\x03\x02\x01\x01", b"\x30\x00"])[4:],
    "ske": m.ServerKeyExchange(b"\x30" + bytes(70)).encode()[4:],
    "ske_ecdhe": m.ServerKeyExchange(b"\x30" + bytes(70), m.EcdheParams(POINT)).encode()[4:],
    "cert_request": m.CertificateRequest(authorities=[b"\x30\x05\x31\x03\x30\x01\x00"]).encode()[4:],
    "cke": m.encode_client_key_exchange(b"\x30" + bytes(120), ecdhe=False)[4:],
    "cke_ecdhe": m.encode_client_key_exchange(m.EcdheParams(POINT).encode(), ecdhe=True)[4:],
    "cke_ecdhe_gmssl": (69).to_bytes(2, "big") + m.EcdheParams(POINT).encode(),
    "cert_verify": m.encode_signature_message(HandshakeType.CERTIFICATE_VERIFY, b"\x30" + bytes(70))[4:],
    "finished": bytes(12),
}
DECODERS = {
    "ClientHello": m.ClientHello.decode,
    "ServerHello": m.ServerHello.decode,
    "Certificate": m.decode_certificate,
    "ServerKeyExchange(ECC)": lambda b: m.ServerKeyExchange.decode(b, ecdhe=False),
    "ServerKeyExchange(ECDHE)": lambda b: m.ServerKeyExchange.decode(b, ecdhe=True),
    "CertificateRequest": m.CertificateRequest.decode,
    "ClientKeyExchange(ECC)": lambda b: m.decode_client_key_exchange(b, ecdhe=False),
    "ClientKeyExchange(ECDHE)": lambda b: m.decode_client_key_exchange(b, ecdhe=True),
    "CertificateVerify": m.decode_certificate_verify,
    "Finished": m.decode_finished,
}


def mutate(data: bytes, ops: list[tuple[int, int, int]]) -> bytes:
    """Apply (kind, position, value) edits: overwrite, insert, delete, truncate, set a length
    field to an extreme."""
    out = bytearray(data)
    for kind, pos, value in ops:
        at = pos % (len(out) + 1)
        if kind == 0 and out:
            out[at % len(out)] = value
        elif kind == 1:
            out[at:at] = bytes([value])
        elif kind == 2 and out:
            del out[at % len(out)]
        elif kind == 3:
            del out[at:]
        elif kind == 4 and len(out) >= 2:
            i = at % (len(out) - 1)
            out[i : i + 2] = (0xFFFF if value & 1 else 0).to_bytes(2, "big")
    return bytes(out)


edits = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 1 << 16), st.integers(0, 255)), max_size=6)
inputs = st.one_of(
    st.binary(max_size=300),
    st.builds(mutate, st.sampled_from(sorted(VALID_BODIES.values())), edits),
)


# ----- 1. every message decoder -----------------------------------------------------------------


def test_the_seeds_decode():
    """The mutation seeds are valid, so mutants are near-misses rather than noise."""
    m.ClientHello.decode(VALID_BODIES["client_hello"])
    m.ClientHello.decode(VALID_BODIES["client_hello_ext"])
    m.ServerHello.decode(VALID_BODIES["server_hello"])
    assert len(m.decode_certificate(VALID_BODIES["certificate"])) == 2
    m.ServerKeyExchange.decode(VALID_BODIES["ske"], ecdhe=False)
    m.ServerKeyExchange.decode(VALID_BODIES["ske_ecdhe"], ecdhe=True)
    m.CertificateRequest.decode(VALID_BODIES["cert_request"])
    m.decode_client_key_exchange(VALID_BODIES["cke"], ecdhe=False)
    assert m.decode_client_key_exchange(VALID_BODIES["cke_ecdhe"], ecdhe=True) == POINT
    assert m.decode_client_key_exchange(VALID_BODIES["cke_ecdhe_gmssl"], ecdhe=True) == POINT
    m.decode_certificate_verify(VALID_BODIES["cert_verify"])
    m.decode_finished(VALID_BODIES["finished"])


@pytest.mark.parametrize("name", sorted(DECODERS))
@FUZZ
@given(data=inputs)
def test_decoders_return_or_raise_tlcp_error(name, data):
    try:
        DECODERS[name](data)
    except TLCPError as exc:
        assert isinstance(exc.alert, AlertDescription)
        assert exc.alert in (A.DECODE_ERROR, A.ILLEGAL_PARAMETER, A.PROTOCOL_VERSION), exc


# ----- 2. record headers --------------------------------------------------------------------------


@FUZZ
@given(head=st.binary(min_size=5, max_size=5), protected=st.booleans())
def test_parse_header_returns_or_raises_tlcp_error(head, protected):
    try:
        content_type, length = parse_header(head, protected=protected)
    except TLCPError as exc:
        assert exc.alert in (A.UNEXPECTED_MESSAGE, A.PROTOCOL_VERSION, A.RECORD_OVERFLOW)
        return
    assert content_type in set(ContentType)
    assert length <= (MAX_CIPHERTEXT if protected else MAX_PLAINTEXT)


@FUZZ
@given(
    content_type=st.sampled_from(list(ContentType)),
    length=st.integers(0, 0xFFFF),
    protected=st.booleans(),
)
def test_header_length_limit_is_record_overflow(content_type, length, protected):
    limit = MAX_CIPHERTEXT if protected else MAX_PLAINTEXT
    head = bytes([content_type, 1, 1]) + length.to_bytes(2, "big")
    if length <= limit:
        assert parse_header(head, protected=protected) == (content_type, length)
    else:
        with pytest.raises(TLCPError) as caught:
            parse_header(head, protected=protected)
        assert caught.value.alert == A.RECORD_OVERFLOW


# ----- 3. record protection -----------------------------------------------------------------------

KEYS = random.Random(38636)
MAC_KEY, KEY, GCM_IV = KEYS.randbytes(32), KEYS.randbytes(16), KEYS.randbytes(4)


def protections(kind: str):
    if kind == "cbc":
        return CbcProtection(MAC_KEY, KEY), CbcProtection(MAC_KEY, KEY)
    return GcmProtection(KEY, GCM_IV), GcmProtection(KEY, GCM_IV)


def sized_bytes(max_size: int):
    """Short binaries from hypothesis, or any length up to ``max_size`` from a seeded generator
    (hypothesis-built 16 KiB binaries would be slow to generate and shrink)."""
    big = st.builds(
        lambda n, seed: random.Random(seed).randbytes(n), st.integers(0, max_size), st.integers(0, 1 << 32)
    )
    return st.one_of(st.binary(max_size=200), big)


@pytest.mark.parametrize("kind", ["cbc", "gcm"])
@FUZZ
@given(fragment=sized_bytes(MAX_CIPHERTEXT + 64), seq=st.integers(0, 3))
def test_open_of_arbitrary_fragments_is_bad_record_mac_or_overflow(kind, fragment, seq):
    _, opener = protections(kind)
    opener.seq = seq
    with pytest.raises(TLCPError) as caught:
        opener.open(ContentType.APPLICATION_DATA, fragment)
    assert caught.value.alert in (A.BAD_RECORD_MAC, A.RECORD_OVERFLOW)


@pytest.mark.parametrize("kind", ["cbc", "gcm"])
@FUZZ
@given(
    plaintexts=st.lists(sized_bytes(MAX_PLAINTEXT), min_size=1, max_size=3),
    content_type=st.sampled_from(list(ContentType)),
)
def test_seal_open_round_trip(kind, plaintexts, content_type):
    sealer, opener = protections(kind)
    for plaintext in plaintexts:
        fragment = sealer.seal(content_type, plaintext)
        assert len(fragment) <= MAX_CIPHERTEXT
        parse_header(bytes([content_type, 1, 1]) + len(fragment).to_bytes(2, "big"), protected=True)
        assert opener.open(content_type, fragment) == plaintext
    assert sealer.seq == opener.seq == len(plaintexts)


@pytest.mark.parametrize("kind", ["cbc", "gcm"])
@FUZZ
@given(plaintext=st.binary(max_size=300), where=st.integers(0, 1 << 16), bit=st.integers(0, 7))
def test_a_flipped_bit_is_bad_record_mac(kind, plaintext, where, bit):
    sealer, opener = protections(kind)
    fragment = bytearray(sealer.seal(ContentType.APPLICATION_DATA, plaintext))
    fragment[where % len(fragment)] ^= 1 << bit
    with pytest.raises(TLCPError) as caught:
        opener.open(ContentType.APPLICATION_DATA, bytes(fragment))
    assert caught.value.alert == A.BAD_RECORD_MAC


@pytest.mark.parametrize("kind", ["cbc", "gcm"])
def test_wrong_sequence_or_type_is_bad_record_mac(kind):
    sealer, opener = protections(kind)
    fragment = sealer.seal(ContentType.APPLICATION_DATA, b"hello")
    with pytest.raises(TLCPError) as caught:
        opener.open(ContentType.HANDSHAKE, fragment)
    assert caught.value.alert == A.BAD_RECORD_MAC
    sealer, opener = protections(kind)
    fragment = sealer.seal(ContentType.APPLICATION_DATA, b"hello")
    opener.seq = 1
    with pytest.raises(TLCPError) as caught:
        opener.open(ContentType.APPLICATION_DATA, fragment)
    assert caught.value.alert == A.BAD_RECORD_MAC


@pytest.mark.parametrize("kind", ["cbc", "gcm"])
def test_an_authentic_but_oversized_record_is_record_overflow(kind):
    """A peer holding the keys that seals more than 2^14 bytes in one record (our sealer never does)."""
    sealer, opener = protections(kind)
    fragment = sealer.seal(ContentType.APPLICATION_DATA, bytes(MAX_PLAINTEXT + 1))
    with pytest.raises(TLCPError) as caught:
        opener.open(ContentType.APPLICATION_DATA, fragment)
    assert caught.value.alert == A.RECORD_OVERFLOW


# ----- 4. a live server handshake ---------------------------------------------------------------


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki.make()


@pytest.fixture(scope="module")
def server_creds(pki):
    return pki.credentials("localhost")


@pytest.fixture(scope="module")
def server_ctx(pki, server_creds) -> TLCPContext:
    return TLCPContext(
        server_side=True,
        credentials=server_creds,
        trust_anchors=[pki.ca],
        client_auth="optional",  # the server also parses a Certificate message from the client
        handshake_timeout=HANDSHAKE_TIMEOUT,
    )


@pytest.fixture(scope="module")
def plain_server_ctx(pki, server_creds) -> TLCPContext:
    """No client authentication: an ECC ClientKeyExchange goes straight to SM2 decryption."""
    return TLCPContext(
        server_side=True,
        credentials=server_creds,
        trust_anchors=[pki.ca],
        handshake_timeout=HANDSHAKE_TIMEOUT,
    )


class CountingSocket:
    """The server's end of the pair, counting what the server read before it first wrote an alert."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.received = 0
        self.received_before_alert: int | None = None

    def recv(self, n: int, *flags) -> bytes:
        data = self._sock.recv(n, *flags)
        self.received += len(data)
        return data

    def sendall(self, data, *flags) -> None:
        if self.received_before_alert is None and bytes(data[:1]) == bytes([ContentType.ALERT]):
            self.received_before_alert = self.received
        self._sock.sendall(data, *flags)

    def __getattr__(self, name: str):
        return getattr(self._sock, name)


class ServerRun:
    """One server handshake on a socket pair, in a thread; the client end is ``self.client``."""

    def __init__(self, ctx: TLCPContext) -> None:
        self.client, server = socket.socketpair()
        self.client.settimeout(10)
        self.server = CountingSocket(server)
        self.error: BaseException | None = None
        self.completed = False
        self.thread = threading.Thread(target=self._run, args=(ctx,), daemon=True)
        self.started = time.monotonic()
        self.thread.start()

    def _run(self, ctx: TLCPContext) -> None:
        try:
            ctx.wrap_socket(self.server)
            self.completed = True
        except BaseException as exc:  # the test inspects what came out
            self.error = exc
        finally:
            self.server._sock.close()

    def send(self, data: bytes, *, close: bool = True) -> None:
        try:
            self.client.sendall(data)
            if close:
                self.client.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server gave up and closed first

    def finish(self) -> bytes:
        """Wait for the server thread; what it wrote to us."""
        self.thread.join(HANDSHAKE_TIMEOUT + 3)
        assert not self.thread.is_alive(), "server handshake did not end"
        assert time.monotonic() - self.started < HANDSHAKE_TIMEOUT + 3
        received = bytearray()
        self.client.settimeout(1)
        try:
            while chunk := self.client.recv(65536):
                received += chunk
        except OSError:
            pass
        self.client.close()
        return bytes(received)

    def check_error(self) -> None:
        assert not self.completed, "a handshake completed on garbage"
        assert isinstance(self.error, TLCPError | TimeoutError | OSError), repr(self.error)


def alerts(wire: bytes) -> list[int]:
    """The alert descriptions among the plaintext records the server sent."""
    out, pos = [], 0
    while pos + 5 <= len(wire):
        length = int.from_bytes(wire[pos + 3 : pos + 5], "big")
        body = wire[pos + 5 : pos + 5 + length]
        if wire[pos] == ContentType.ALERT and len(body) == 2:
            out.append(body[1])
        pos += 5 + length
    return out


def run_server(ctx: TLCPContext, data: bytes, *, close: bool = True) -> tuple[ServerRun, bytes]:
    run = ServerRun(ctx)
    run.send(data, close=close)
    wire = run.finish()
    run.check_error()
    return run, wire


@LIVE
@given(data=st.binary(max_size=400))
def test_server_on_arbitrary_bytes(server_ctx, data):
    run_server(server_ctx, data)


@LIVE
@given(body=st.binary(max_size=400), content_type=st.sampled_from(list(ContentType)))
def test_server_on_a_valid_header_and_garbage(server_ctx, body, content_type):
    run_server(server_ctx, record(content_type, body))


@LIVE
@given(
    garbage=st.one_of(
        st.binary(max_size=300),
        st.builds(lambda t, b: record(t, b), st.sampled_from(list(ContentType)), st.binary(max_size=300)),
        st.builds(
            lambda certs: record(RECORD, m.encode_certificate(certs)),
            st.lists(st.binary(min_size=1, max_size=120), min_size=1, max_size=3),
        ),
        st.builds(
            lambda body: record(
                RECORD, bytes([HandshakeType.CLIENT_KEY_EXCHANGE]) + len(body).to_bytes(3, "big") + body
            ),
            st.binary(max_size=200),
        ),
    ),
    suites=st.sampled_from([(ECC_SM4_GCM_SM3.code,), (ECC_SM4_CBC_SM3.code,), (ECDHE_SM4_GCM_SM3.code,)]),
)
def test_server_on_a_client_hello_then_garbage(server_ctx, plain_server_ctx, garbage, suites):
    for ctx in (server_ctx, plain_server_ctx):
        run_server(ctx, record(RECORD, client_hello(suites)) + garbage)


@LIVE
@given(cut=st.integers(1, 200), session_id=st.binary(max_size=32))
def test_server_on_truncated_records(server_ctx, cut, session_id):
    """A record cut short, then EOF: ConnectionClosed, promptly."""
    full = record(RECORD, client_hello(session_id=session_id))
    run, _ = run_server(server_ctx, full[: min(cut, len(full) - 1)])
    assert isinstance(run.error, TLCPError | OSError)


def test_truncated_record_without_eof_times_out(pki):
    ctx = TLCPContext(server_side=True, credentials=pki.credentials("localhost"), handshake_timeout=0.5)
    run = ServerRun(ctx)
    run.send(record(RECORD, client_hello())[:20], close=False)
    started = time.monotonic()
    run.finish()
    run.check_error()
    assert isinstance(run.error, TimeoutError | OSError)
    assert time.monotonic() - started < 0.5 + 2


def test_oversized_record_header_is_record_overflow_on_the_wire(server_ctx):
    run, wire = run_server(server_ctx, bytes([ContentType.HANDSHAKE, 1, 1, 0xFF, 0xFF]) + bytes(100))
    assert wire == bytes([0x15, 0x01, 0x01, 0x00, 0x02, 0x02, 0x16])  # fatal record_overflow (22)
    assert isinstance(run.error, TLCPError)
    assert run.error.alert == A.RECORD_OVERFLOW


def test_the_server_alert_names_the_failure(server_ctx):
    """After a ClientHello the server's flight, then a decode_error alert for a garbage message."""
    bad = bytes([HandshakeType.CERTIFICATE, 0, 0, 2]) + b"\x00\x00"  # vector length runs past the end
    run, wire = run_server(server_ctx, record(RECORD, client_hello()) + record(RECORD, bad))
    assert run.error.alert == A.DECODE_ERROR
    assert alerts(wire) == [A.DECODE_ERROR]


# ----- 5. memory: 10 MB of garbage --------------------------------------------------------------

TEN_MB = 10 * 1000 * 1000


def flood(ctx: TLCPContext, data: bytes) -> CountingSocket:
    run = ServerRun(ctx)
    sender = threading.Thread(target=run.send, args=(data,), daemon=True)
    sender.start()
    wire = run.finish()  # closes our end, so a blocked sendall ends with EPIPE
    sender.join(5)
    assert not sender.is_alive()
    run.check_error()
    assert isinstance(run.error, TLCPError)
    assert alerts(wire), "no alert on the wire"
    return run.server


def test_ten_megabytes_of_random_bytes_stop_at_the_first_header(server_ctx):
    data = random.Random(1).randbytes(TEN_MB)
    assert data[0] not in set(ContentType)  # a bad first header, with this seed
    counted = flood(server_ctx, data)
    # One read (the record layer reads ahead at most RECV_SIZE) shows a bad header: refused.
    assert counted.received_before_alert <= RecordLayer.RECV_SIZE
    assert counted.received < RecordLayer.RECV_SIZE + 64 * 1024 + 16 * 1024  # then the bounded drain


def test_ten_megabytes_of_framed_garbage_stop_after_one_record(server_ctx):
    """Well-framed handshake records of random bytes: the first one is refused (its message
    type is not ClientHello, or its length exceeds the limit) without reading further records
    than one bounded handshake message."""
    rng = random.Random(2)
    chunk = b"".join(record(RECORD, rng.randbytes(MAX_PLAINTEXT)) for _ in range(8))
    data = chunk * (TEN_MB // len(chunk) + 1)
    counted = flood(server_ctx, data)
    assert counted.received_before_alert is not None
    one_message = 4 + MAX_HANDSHAKE_MESSAGE + 2 * (5 + MAX_PLAINTEXT)
    assert counted.received_before_alert <= one_message
    assert counted.received < one_message + 64 * 1024 + 16 * 1024


def test_a_long_handshake_message_of_the_wrong_type_is_bounded(server_ctx):
    """A first message that is not a ClientHello but announces 60 000 bytes: the server refuses it
    at its first byte, having read one record's worth (the read-ahead), not the 60 000 bytes."""
    body = bytes([HandshakeType.FINISHED]) + (60000).to_bytes(3, "big") + bytes(60000)
    framed = b"".join(record(RECORD, body[i : i + MAX_PLAINTEXT]) for i in range(0, len(body), MAX_PLAINTEXT))
    counted = flood(server_ctx, framed + record(RECORD, bytes(MAX_PLAINTEXT)) * 200)
    assert counted.received_before_alert <= RecordLayer.RECV_SIZE < len(framed)
