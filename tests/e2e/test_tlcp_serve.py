"""`hpf serve --tlcp` for real: gunicorn workers speaking TLCP next to plain HTTP."""

from __future__ import annotations

import json
import os
import socket
import threading
import time

import pytest
import requests
from click.testing import CliRunner

from hpf.cli import cli
from hpf.crypto import x509
from hpf.tlcp import ECC_SM4_CBC_SM3, TLCPContext, TLCPError
from hpf.tlcp.http import PartnerClient
from tests.e2e.conftest import free_port


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """Certificates from `hpf certs` and the demo centre in an SQLite instance, made once."""
    base = tmp_path_factory.mktemp("tlcp-serve")
    instance = base / "instance"
    env = {"HPF_DATABASE_URL": "", "HPF_INSTANCE_PATH": str(instance)}
    runner = CliRunner()
    for args in (
        ["certs", "make-ca", "--out", str(base / "ca")],
        ["certs", "make-server", "--ca", str(base / "ca"), "--out", str(instance / "tlcp")],
        ["demo", "--no-serve"],
    ):
        result = runner.invoke(cli, args, env=env)
        assert result.exit_code == 0, result.output
    _tls_certificate(base)
    return base, env


def _tls_certificate(base) -> None:
    """A P-256 certificate for the optional standard-TLS listener."""
    import ipaddress
    from datetime import UTC, datetime, timedelta

    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        cx509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(cx509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=90))
        .add_extension(
            cx509.SubjectAlternativeName([cx509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    (base / "tls.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (base / "tls.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


def _tlcp_lines(log: str) -> list[dict]:
    return [
        json.loads(line)
        for line in log.splitlines()
        if line.startswith("{") and '"logger": "hpf.tlcp"' in line
    ]


@pytest.mark.parametrize("threads", [1, 2], ids=["sync", "gthread"])
def test_serve_over_tlcp(prepared, start_server, threads):
    base, env = prepared
    port, tls_port = free_port(), free_port()
    server = start_server(
        "serve",
        "--tlcp",
        "--tlcp-bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--threads",
        str(threads),
        env={
            **env,
            "HPF_TLCP_HANDSHAKE_TIMEOUT": "1",
            "HPF_TLCP_TLS_BIND": f"127.0.0.1:{tls_port}",
            "HPF_TLCP_TLS_CERT": str(base / "tls.crt"),
            "HPF_TLCP_TLS_KEY": str(base / "tls.key"),
            "HPF_TLCP_CIPHER_SUITES": "ECC_SM4_GCM_SM3,ECDHE_SM4_GCM_SM3",
        },
    )
    ca_file = base / "ca" / "ca.crt"
    url = f"tlcp://localhost:{port}"
    client = PartnerClient(url, ca_file=ca_file)

    status, body = client.get_json("/readyz")
    assert status == 200 and body["status"] == "ready"
    assert requests.get(server.base + "/readyz").status_code == 200  # plain HTTP alongside
    tls = requests.get(f"https://127.0.0.1:{tls_port}/readyz", verify=str(base / "tls.crt"))
    assert tls.status_code == 200  # and standard TLS for browsers
    startup = server.log()
    assert f"listener 127.0.0.1:{port}: TLCP" in startup and "TLCP signing certificate: subject" in startup
    assert f"Using worker: {'TlcpThreadWorker' if threads > 1 else 'TlcpSyncWorker'}" in startup

    # An authenticated API call over TLCP: the session cookie set by the login.
    status, headers, _ = client.request(
        "POST", "/api/v1/session", json={"username": "teller01", "password": "Demo@2026"}
    )
    assert status == 200, headers
    cookie = headers["set-cookie"].split(";", 1)[0]
    assert client.get_json("/api/v1/session")[0] == 401
    status, me = client.get_json("/api/v1/session", headers={"Cookie": cookie})
    assert status == 200 and "teller01" in json.dumps(me, ensure_ascii=False)
    if threads > 1:
        assert client.connections == 1  # all of it on one kept-alive connection
    client.close()

    # Resumption across the two workers: the session store is shared, so every new connection
    # offering the session is resumed, whichever worker accepts it.
    resuming = TLCPContext(server_side=False, trust_anchors=x509.load_pem_chain(ca_file.read_bytes()))
    first = resuming.wrap_socket(
        socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname="localhost"
    )
    session = first.session
    first.close()
    reused = []
    for _ in range(8):
        conn = resuming.wrap_socket(
            socket.create_connection(("127.0.0.1", port), timeout=5),
            server_hostname="localhost",
            session=session,
        )
        reused.append(conn.session_reused)
        conn.close()
    assert reused == [True] * 8

    # Garbage and a client offering no suite the server accepts: closed, logged, server fine.
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(os.urandom(300))
        try:
            while raw.recv(4096):
                pass
        except ConnectionResetError:
            pass
    narrow = TLCPContext(
        server_side=False, trust_anchors=x509.load_pem_chain(ca_file.read_bytes()), suites=[ECC_SM4_CBC_SM3]
    )
    with pytest.raises(TLCPError) as caught:
        narrow.wrap_socket(
            socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname="localhost"
        )
    assert caught.value.alert.name == "HANDSHAKE_FAILURE"
    assert PartnerClient(url, ca_file=ca_file).get_json("/healthz")[0] == 200

    # A client that connects and says nothing is dropped after handshake_timeout (1 s), while
    # others are served meanwhile.
    slow = socket.create_connection(("127.0.0.1", port), timeout=6)
    served = []
    thread = threading.Thread(
        target=lambda: served.append(PartnerClient(url, ca_file=ca_file).get_json("/healthz")[0])
    )
    thread.start()
    start = time.monotonic()
    try:
        dropped = slow.recv(100) == b""
    except ConnectionResetError:
        dropped = True
    waited = time.monotonic() - start
    slow.close()
    thread.join(10)
    assert dropped and 0.5 < waited < 4, waited
    assert served == [200]
    assert requests.get(server.base + "/healthz").status_code == 200

    assert server.stop() == 0
    lines = _tlcp_lines(server.log())
    failures = [e for e in lines if e["alert"] == "handshake_failure"]
    assert len(failures) == 1 and "no supported cipher suite" in failures[0]["reason"], lines
    assert failures[0]["peer"].startswith("127.0.0.1:") and failures[0]["level"] == "WARNING"
    assert sum(e["alert"] == "timeout" for e in lines) == 1, lines
    assert len(lines) == 3, lines  # garbage, no suite, silence: one line each
