"""TLCP handshakes product↔product over loopback: every suite, mutual auth, resumption, bad input."""

from __future__ import annotations

import socket
import time

import pytest

from hpf.crypto import x509
from hpf.tlcp import (
    ECC_SM4_CBC_SM3,
    ECC_SM4_GCM_SM3,
    ECDHE_SM4_CBC_SM3,
    SUITES,
    AlertDescription,
    AlertReceived,
    TLCPContext,
    TLCPError,
)
from hpf.tlcp import messages as m
from hpf.tlcp.connection import TLCPSocket
from hpf.tlcp.constants import ContentType
from tests.unit.tlcp_support import ENC_USAGE, SIGN_USAGE, Pki, connect, listener, past, serve_once

A = AlertDescription


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki.make()


@pytest.fixture(scope="module")
def server_creds(pki):
    return pki.credentials("localhost")


@pytest.fixture(scope="module")
def client_creds(pki):
    return pki.credentials("partner-bank", eku="clientAuth")


@pytest.fixture
def lsock():
    sock = listener()
    yield sock
    sock.close()


def _server(server_creds, pki, **kw) -> TLCPContext:
    kw.setdefault("trust_anchors", [pki.ca])
    return TLCPContext(server_side=True, credentials=server_creds, handshake_timeout=5, **kw)


def _client(pki, **kw) -> TLCPContext:
    kw.setdefault("trust_anchors", [pki.ca])
    return TLCPContext(server_side=False, **kw)


def _expect_alert(outcome, alert) -> None:
    assert outcome.done.wait(10)
    assert isinstance(outcome.error, TLCPError), outcome.error
    assert outcome.error.alert == alert, outcome.error


@pytest.mark.parametrize("suite", list(SUITES.values()), ids=lambda s: s.name)
@pytest.mark.parametrize("mutual", [False, True], ids=["server-auth", "mutual"])
def test_every_suite_handshakes_and_resumes(suite, mutual, pki, server_creds, client_creds, lsock):
    server = _server(server_creds, pki, suites=[suite], client_auth="required" if mutual else "none")
    client = _client(pki, suites=[suite], credentials=client_creds if (mutual or suite.ecdhe) else None)
    port = lsock.getsockname()[1]

    outcome = serve_once(server, lsock, expect=40000)
    conn = connect(client, port)
    conn.sendall(b"x" * 40000)  # spans three records
    reply = b""
    while len(reply) < 40005:
        reply += conn.recv(65536)
    assert reply == b"echo:" + b"x" * 40000
    assert conn.cipher()[0] == suite.name and conn.version() == "TLCP" and not conn.session_reused
    session = conn.session
    conn.close()
    assert outcome.done.wait(10) and outcome.error is None
    assert outcome.conn.suite is suite
    peer_expected = 3 if (mutual or suite.ecdhe) else 0  # sign, enc, CA
    assert len(outcome.conn.peer_certificates) == peer_expected

    outcome = serve_once(server, lsock)
    conn = connect(client, port, session=session)
    conn.sendall(b"again")
    assert conn.recv(100) == b"echo:again"
    assert conn.session_reused
    conn.close()
    assert outcome.done.wait(10) and outcome.error is None and outcome.conn.session_reused
    assert len(outcome.conn.peer_certificates) == peer_expected


def test_server_certificate_message_is_sign_enc_then_chain(server_creds):
    assert server_creds.certificate_list() == [
        server_creds.sign_cert.der,
        server_creds.enc_cert.der,
        server_creds.chain[0].der,
    ]


def test_no_common_suite_is_a_handshake_failure(pki, server_creds, lsock):
    outcome = serve_once(_server(server_creds, pki, suites=[ECC_SM4_CBC_SM3]), lsock)
    with pytest.raises(AlertReceived) as seen:
        connect(_client(pki, suites=[ECC_SM4_GCM_SM3]), lsock.getsockname()[1])
    assert seen.value.alert == A.HANDSHAKE_FAILURE
    _expect_alert(outcome, A.HANDSHAKE_FAILURE)
    assert "no supported cipher suite" in outcome.error.reason


def test_ecdhe_needs_client_double_certificates(pki, server_creds, lsock):
    outcome = serve_once(_server(server_creds, pki, suites=[ECDHE_SM4_CBC_SM3]), lsock)
    # Without a double certificate the client has nothing to offer and says so before sending.
    with pytest.raises(TLCPError) as seen:
        connect(_client(pki, suites=[ECDHE_SM4_CBC_SM3]), lsock.getsockname()[1])
    assert seen.value.alert == A.HANDSHAKE_FAILURE and "double certificates" in seen.value.reason
    assert outcome.done.wait(10) and outcome.conn is None


def test_untrusted_server_is_unknown_ca(pki, server_creds, lsock):
    outcome = serve_once(_server(server_creds, pki), lsock)
    with pytest.raises(TLCPError) as seen:
        connect(_client(pki, trust_anchors=[Pki.make("别的CA").ca]), lsock.getsockname()[1])
    assert seen.value.alert == A.UNKNOWN_CA and "unknown_ca" in seen.value.reason
    _expect_alert(outcome, A.UNKNOWN_CA)  # the server receives our alert


def test_expired_server_certificate_is_bad_certificate(pki, lsock):
    expired = pki.credentials("localhost", not_before=past(30), days=10)
    outcome = serve_once(_server(expired, pki), lsock)
    with pytest.raises(TLCPError) as seen:
        connect(_client(pki), lsock.getsockname()[1])
    assert seen.value.alert == A.BAD_CERTIFICATE and "expired" in seen.value.reason
    _expect_alert(outcome, A.BAD_CERTIFICATE)


def test_wrongly_used_certificate_is_bad_certificate(pki, lsock):
    # The "encryption" certificate only allows signing: a CA that mixed up the pair.
    sign, sign_key = pki.leaf("localhost", SIGN_USAGE)
    enc, enc_key = pki.leaf("localhost", SIGN_USAGE)
    from hpf.tlcp.context import Credentials

    with pytest.raises(x509.CertificateError) as refused:
        Credentials(sign, sign_key, enc, enc_key, (pki.ca,))  # refused when the server loads it
    assert refused.value.reason == "bad_key_usage"
    creds = object.__new__(Credentials)
    object.__setattr__(creds, "sign_cert", sign)
    object.__setattr__(creds, "sign_key", sign_key)
    object.__setattr__(creds, "enc_cert", enc)
    object.__setattr__(creds, "enc_key", enc_key)
    object.__setattr__(creds, "chain", (pki.ca,))
    outcome = serve_once(_server(creds, pki), lsock)
    with pytest.raises(TLCPError) as seen:
        connect(_client(pki), lsock.getsockname()[1])
    assert seen.value.alert == A.BAD_CERTIFICATE and "bad_key_usage" in seen.value.reason
    _expect_alert(outcome, A.BAD_CERTIFICATE)


def test_required_client_certificate_from_an_unknown_ca_is_refused(pki, server_creds, lsock):
    stranger = Pki.make("陌生CA").credentials("intruder", eku="clientAuth")
    outcome = serve_once(_server(server_creds, pki, client_auth="required"), lsock)
    with pytest.raises(AlertReceived) as seen:
        connect(_client(pki, credentials=stranger), lsock.getsockname()[1])
    assert seen.value.alert == A.UNKNOWN_CA
    _expect_alert(outcome, A.UNKNOWN_CA)


def test_required_client_certificate_missing_is_a_handshake_failure(pki, server_creds, lsock):
    outcome = serve_once(_server(server_creds, pki, client_auth="required"), lsock)
    with pytest.raises(AlertReceived):
        connect(_client(pki), lsock.getsockname()[1])
    _expect_alert(outcome, A.HANDSHAKE_FAILURE)


class _BadFinishedClient(TLCPSocket):
    def _finished(self, master, label):
        data = super()._finished(master, label)
        return bytes(12) if label == b"client finished" else data


def test_a_finished_that_does_not_verify_is_decrypt_error_and_closes(pki, server_creds, lsock):
    outcome = serve_once(_server(server_creds, pki), lsock)
    sock = socket.create_connection(lsock.getsockname(), timeout=10)
    conn = _BadFinishedClient(sock, _client(pki), server_hostname="localhost")
    with pytest.raises(AlertReceived) as seen:
        conn.do_handshake()
    assert seen.value.alert == A.DECRYPT_ERROR
    _expect_alert(outcome, A.DECRYPT_ERROR)
    assert outcome.conn is None


class _WrongVersionPms(TLCPSocket):
    def _ecc_pre_master(self, enc_cert):
        pre_master = b"\x03\x03" + bytes(46)
        return pre_master, enc_cert.public_key.encrypt(pre_master, form="asn1")


class _UndecryptablePms(TLCPSocket):
    def _ecc_pre_master(self, enc_cert):
        pre_master, sealed = super()._ecc_pre_master(enc_cert)
        tampered = bytearray(sealed)
        tampered[-1] ^= 0xFF  # C2 changes: the C3 check fails
        return pre_master, bytes(tampered)


@pytest.mark.parametrize("client_class", [_WrongVersionPms, _UndecryptablePms])
def test_bad_pre_master_secret_is_not_an_oracle(client_class, pki, server_creds, lsock):
    """The server answers a bad pre-master secret exactly as a wrong key: no early alert,
    the handshake goes on and fails at the client's Finished record (bad_record_mac)."""
    outcome = serve_once(_server(server_creds, pki, suites=[ECC_SM4_CBC_SM3]), lsock)
    sock = socket.create_connection(lsock.getsockname(), timeout=10)
    conn = client_class(sock, _client(pki), server_hostname="localhost")
    with pytest.raises(AlertReceived) as seen:
        conn.do_handshake()
    assert seen.value.alert == A.BAD_RECORD_MAC
    _expect_alert(outcome, A.BAD_RECORD_MAC)


def test_oversized_record_is_record_overflow(pki, server_creds, lsock):
    outcome = serve_once(_server(server_creds, pki), lsock)
    sock = socket.create_connection(lsock.getsockname(), timeout=10)
    sock.sendall(bytes([22, 1, 1]) + (16385).to_bytes(2, "big"))
    assert sock.recv(7) == bytes([21, 1, 1, 0, 2, 2, A.RECORD_OVERFLOW])
    _expect_alert(outcome, A.RECORD_OVERFLOW)
    sock.close()


def test_tls_client_hello_is_a_protocol_version_alert(pki, server_creds, lsock):
    outcome = serve_once(_server(server_creds, pki), lsock)
    sock = socket.create_connection(lsock.getsockname(), timeout=10)
    sock.sendall(bytes([22, 3, 1, 0, 5]) + b"\x01\x00\x00\x01\x00")
    assert sock.recv(7)[-1] == A.PROTOCOL_VERSION
    _expect_alert(outcome, A.PROTOCOL_VERSION)
    sock.close()


def test_out_of_order_handshake_message_is_unexpected(pki, server_creds, lsock):
    outcome = serve_once(_server(server_creds, pki), lsock)
    sock = socket.create_connection(lsock.getsockname(), timeout=10)
    finished = m.encode_finished(bytes(12))
    sock.sendall(bytes([22, 1, 1]) + len(finished).to_bytes(2, "big") + finished)
    assert sock.recv(7)[-1] == A.UNEXPECTED_MESSAGE
    _expect_alert(outcome, A.UNEXPECTED_MESSAGE)
    sock.close()


def test_slow_handshake_times_out(pki, server_creds, lsock):
    server = TLCPContext(server_side=True, credentials=server_creds, handshake_timeout=0.5)
    outcome = serve_once(server, lsock)
    sock = socket.create_connection(lsock.getsockname(), timeout=10)
    sock.sendall(bytes([22, 1, 1, 0, 40]))  # a header, then nothing
    started = time.monotonic()
    assert outcome.done.wait(5)
    assert isinstance(outcome.error, TimeoutError | OSError)
    assert time.monotonic() - started < 3
    sock.close()


def test_renegotiation_is_refused_and_the_connection_goes_on(pki, server_creds, lsock):
    outcome = serve_once(_server(server_creds, pki), lsock, echo=False)
    conn = connect(_client(pki), lsock.getsockname()[1])
    assert outcome.done.wait(10) and outcome.error is None
    server_conn = outcome.conn
    # The client asks for a new handshake inside the protected channel.
    hello = m.ClientHello(bytes(32), b"", [ECC_SM4_CBC_SM3.code]).encode()
    with conn._write_lock:
        conn._records.write(ContentType.HANDSHAKE, hello)
    conn.sendall(b"after")
    assert server_conn.recv(100) == b"after"  # the ClientHello was answered with no_renegotiation
    server_conn.sendall(b"still here")
    assert conn.recv(100) == b"still here"  # the client skipped the warning alert
    conn.close()
    assert server_conn.recv(100) == b""  # close_notify is a clean end of stream
    server_conn.close()


def test_raw_certificate_verify_is_accepted_only_when_allowed(pki, server_creds, client_creds, lsock):
    """GmSSL 3.x signs the raw transcript in CertificateVerify; the standard form signs SM3 of it."""
    for forms, ok in ((("hash", "raw"), True), (("hash",), False)):
        server = _server(server_creds, pki, client_auth="required", cert_verify_forms=forms)
        outcome = serve_once(server, lsock)
        client = _client(pki, credentials=client_creds, cert_verify_sign_form="raw", suites=[ECC_SM4_GCM_SM3])
        if ok:
            conn = connect(client, lsock.getsockname()[1])
            conn.sendall(b"hi")
            assert conn.recv(10) == b"echo:hi"
            conn.close()
            assert outcome.done.wait(10) and outcome.conn.cert_verify_form == "raw"
        else:
            with pytest.raises(AlertReceived):
                connect(client, lsock.getsockname()[1])
            _expect_alert(outcome, A.DECRYPT_ERROR)


def test_single_client_certificate_list_for_gmssl_peers(pki, server_creds, client_creds, lsock):
    server = _server(server_creds, pki, client_auth="required")
    outcome = serve_once(server, lsock)
    client = _client(pki, credentials=client_creds, client_certificates="single")
    conn = connect(client, lsock.getsockname()[1])
    conn.sendall(b"one")
    assert conn.recv(10) == b"echo:one"
    conn.close()
    assert outcome.done.wait(10) and [c.der for c in outcome.conn.peer_certificates] == [
        client_creds.sign_cert.der,
        pki.ca.der,
    ]


def test_pinned_fingerprint_must_be_in_the_path(pki, server_creds, lsock):
    outcome = serve_once(_server(server_creds, pki), lsock)
    with pytest.raises(TLCPError) as seen:
        connect(_client(pki, pinned_fingerprints=("00" * 32,)), lsock.getsockname()[1])
    assert seen.value.alert == A.UNKNOWN_CA
    outcome.done.wait(10)
    outcome = serve_once(_server(server_creds, pki), lsock)
    conn = connect(
        _client(pki, pinned_fingerprints=(server_creds.sign_cert.fingerprint(),)), lsock.getsockname()[1]
    )
    conn.sendall(b"pin")
    assert conn.recv(10) == b"echo:pin"
    conn.close()


def test_context_rejects_bad_configuration(pki, server_creds):
    with pytest.raises(ValueError):
        TLCPContext(server_side=True)
    with pytest.raises(ValueError):
        TLCPContext(server_side=True, credentials=server_creds, client_auth="sometimes")
    with pytest.raises(ValueError):
        TLCPContext(server_side=False, suites=["TLS_AES_128_GCM_SHA256"])
    assert ENC_USAGE  # the support module's usage sets are the ones the CLI issues
