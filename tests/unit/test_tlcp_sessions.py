"""The session store shared by the workers: resumption across processes, sealed entries, bounds."""

from __future__ import annotations

import os
import time

import pytest

from hpf.domain.errors import ConfigError
from hpf.tlcp import TLCPContext
from hpf.tlcp.context import Session
from hpf.tlcp.sessions import SharedSessionCache
from tests.unit.tlcp_support import Pki, connect, listener, serve_once

KEY = bytes(range(16))


@pytest.fixture(scope="module")
def pki():
    return Pki.make()


def _session(pki, n: int = 0, created: float | None = None) -> Session:
    creds = pki.credentials("client", eku="clientAuth")
    return Session(
        bytes([n]) * 32, bytes(range(48)), 0xE053, (creds.sign_cert, creds.enc_cert), created or time.time()
    )


def test_a_session_stored_by_one_worker_resumes_in_another(pki, tmp_path):
    creds, client_creds = pki.credentials("localhost"), pki.credentials("partner", eku="clientAuth")
    worker_a = TLCPContext(
        server_side=True,
        credentials=creds,
        trust_anchors=[pki.ca],
        client_auth="required",
        sessions=SharedSessionCache(tmp_path, KEY),
    )
    worker_b = TLCPContext(
        server_side=True,
        credentials=creds,
        trust_anchors=[pki.ca],
        client_auth="required",
        sessions=SharedSessionCache(tmp_path, KEY),
    )
    client = TLCPContext(server_side=False, trust_anchors=[pki.ca], credentials=client_creds)
    sock = listener()
    try:
        outcome = serve_once(worker_a, sock)
        conn = connect(client, sock.getsockname()[1])
        conn.sendall(b"a")
        assert conn.recv(10) == b"echo:a"
        session = conn.session
        conn.close()
        assert outcome.done.wait(10) and not outcome.conn.session_reused

        outcome = serve_once(worker_b, sock)
        conn = connect(client, sock.getsockname()[1], session=session)
        conn.sendall(b"b")
        assert conn.recv(10) == b"echo:b" and conn.session_reused
        conn.close()
        assert outcome.done.wait(10) and outcome.conn.session_reused
        # The client's identity comes back with the session, for the application to see.
        assert outcome.conn.peer_certificates[0].der == client_creds.sign_cert.der
    finally:
        sock.close()


def test_entries_are_sealed_and_bound_to_their_id(pki, tmp_path):
    store = SharedSessionCache(tmp_path, KEY)
    session = _session(pki, 1)
    store.put(session)
    path = tmp_path / session.session_id.hex()
    assert path.stat().st_mode & 0o777 == 0o600
    assert session.master_secret not in path.read_bytes()  # never in the clear
    got = store.get(session.session_id)
    assert got.master_secret == session.master_secret and got.suite == 0xE053
    assert [c.der for c in got.peer_certificates] == [c.der for c in session.peer_certificates]

    assert SharedSessionCache(tmp_path, bytes(16)).get(session.session_id) is None  # another key
    assert not path.exists()  # an entry that does not open is removed

    store.put(session)
    os.rename(path, tmp_path / (bytes([2]) * 32).hex())  # moved under another session's name
    assert store.get(bytes([2]) * 32) is None

    store.put(session)
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    assert store.get(session.session_id) is None
    assert store.get(b"") is None and store.get(b"x" * 40) is None


def test_expired_sessions_are_refused_and_the_store_stays_bounded(pki, tmp_path):
    store = SharedSessionCache(tmp_path, KEY, size=5, ttl=60)
    old = _session(pki, 9, created=time.time() - 120)
    store.put(old)
    assert store.get(old.session_id) is None
    for n in range(10):
        store.put(_session(pki, 10 + n))
    assert len(store) == 10
    assert store.sweep() == 5 and len(store) == 5
    assert store.get(bytes([19]) * 32) is not None  # the newest are kept


def test_session_store_setting_is_checked(tmp_path):
    from hpf.config import load_settings

    with pytest.raises(ConfigError, match="session_store"):
        load_settings(environ={"HPF_INSTANCE_PATH": str(tmp_path), "HPF_TLCP_SESSION_STORE": "redis"})
