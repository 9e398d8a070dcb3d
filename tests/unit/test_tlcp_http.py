"""PartnerClient / TLCPHTTPSConnection against a small threaded TLCP HTTP server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hpf.tlcp import ECC_SM4_CBC_SM3, ECC_SM4_GCM_SM3, ECDHE_SM4_GCM_SM3, TLCPContext
from hpf.tlcp.http import PartnerChannelError, PartnerClient, TLCPHTTPSConnection, client_for
from tests.unit.tlcp_support import Pki


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def _reply(self, payload) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _conn_info(self):
        conn = self.connection
        cipher = conn.cipher()[0] if hasattr(conn, "suite") else None
        return {"cipher": cipher, "reused": getattr(conn, "session_reused", None), "path": self.path}

    def do_GET(self) -> None:
        self._reply(self._conn_info())

    def do_POST(self) -> None:
        data = self.rfile.read(int(self.headers["Content-Length"]))
        self._reply({**self._conn_info(), "echo": json.loads(data)})

    def log_message(self, *args) -> None:
        pass


class TLCPHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, context: TLCPContext | None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.context = context
        self.connections: list = []  # (cipher, session_reused) per handshake, server side

    def finish_request(self, request, client_address) -> None:
        if self.context is not None:  # the handshake in the connection's thread
            request = self.context.wrap_socket(request)
            self.connections.append((request.suite.name, request.session_reused))
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address) -> None:
        pass  # failed handshakes are the point of some tests


@pytest.fixture(scope="module")
def pki():
    return Pki.make()


@pytest.fixture(scope="module")
def ca_file(pki, tmp_path_factory):
    path = tmp_path_factory.mktemp("ca") / "ca.crt"
    path.write_text(pki.ca.to_pem())
    return path


@pytest.fixture
def serve(pki):
    servers = []

    def start(suites=None, *, plain=False, client_auth="none"):
        ctx = (
            None
            if plain
            else TLCPContext(
                server_side=True,
                credentials=pki.credentials(),
                suites=suites,
                trust_anchors=[pki.ca],
                client_auth=client_auth,
            )
        )
        server = TLCPHTTPServer(ctx)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("suite", [ECC_SM4_GCM_SM3, ECC_SM4_CBC_SM3], ids=lambda s: s.name)
def test_get_and_post_json_keep_alive(serve, ca_file, suite):
    server = serve([suite])
    with PartnerClient(f"tlcp://localhost:{server.server_port}/api", ca_file=ca_file) as client:
        status, body = client.get_json("/credits?since=1")
        assert status == 200 and body == {
            "cipher": suite.name,
            "reused": False,
            "path": "/api/credits?since=1",
        }
        status, body = client.post_json("pay", {"amount": "12.50", "名称": "单位"})
        assert status == 200 and body["echo"] == {"amount": "12.50", "名称": "单位"}
        status, headers, raw = client.request("GET", "/x", headers={"X-Trace": "1"})
        assert status == 200 and headers["content-type"] == "application/json" and raw.startswith(b"{")
    assert client.connections == 1 and len(server.connections) == 1  # one connection, kept alive


def test_session_resumed_on_the_next_connection(serve, ca_file):
    server = serve()
    client = PartnerClient(f"https+tlcp://localhost:{server.server_port}", ca_file=ca_file)
    assert client.get_json("/one")[1]["reused"] is False
    first = client.session
    client.close()  # e.g. the server ended keep-alive
    assert client.get_json("/two")[1]["reused"] is True
    assert client.session_reused and client.session.session_id == first.session_id
    assert [reused for _, reused in server.connections] == [False, True]
    client.close()


def test_ecdhe_with_a_client_double_certificate(serve, pki, ca_file):
    server = serve([ECDHE_SM4_GCM_SM3], client_auth="required")
    client = client_for(
        f"tlcp://localhost:{server.server_port}",
        ca_file=ca_file,
        client_cert=pki.credentials("partner-client", eku="clientAuth"),
    )
    assert client.get_json("/")[1]["cipher"] == "ECDHE_SM4_GCM_SM3"
    client.close()


def test_pinned_fingerprint_mismatch(serve, ca_file):
    server = serve()
    client = PartnerClient(
        f"tlcp://localhost:{server.server_port}", ca_file=ca_file, pinned_fingerprints=("00" * 32,)
    )
    with pytest.raises(PartnerChannelError) as caught:
        client.get_json("/")
    assert caught.value.code == "partner_channel_failed" and caught.value.alert == "unknown_ca"
    assert "unknown_ca" in caught.value.message and "pinned" in caught.value.reason
    assert str(server.server_port) not in caught.value.message  # the address is for logs only


def test_pinned_fingerprint_match(serve, pki, ca_file):
    server = serve()
    pin = pki.credentials().sign_cert.fingerprint()  # another leaf: the CA on the path matches
    client = PartnerClient(
        f"tlcp://localhost:{server.server_port}",
        ca_file=ca_file,
        pinned_fingerprints=(pki.ca.fingerprint().upper(), pin),
    )
    assert client.get_json("/")[0] == 200
    client.close()


def test_wrong_ca_is_unknown_ca(serve, tmp_path):
    server = serve()
    other = tmp_path / "other.crt"
    other.write_text(Pki.make("另一个CA").ca.to_pem())
    client = PartnerClient(f"tlcp://localhost:{server.server_port}", ca_file=other)
    with pytest.raises(PartnerChannelError, match="unknown_ca"):
        client.get_json("/")


def test_no_common_suite_and_refused_connection(serve, ca_file):
    server = serve([ECC_SM4_CBC_SM3])
    client = PartnerClient(
        f"tlcp://localhost:{server.server_port}", ca_file=ca_file, suites=["ECC_SM4_GCM_SM3"]
    )
    with pytest.raises(PartnerChannelError) as caught:
        client.get_json("/")
    assert caught.value.alert == "handshake_failure"
    server.shutdown()
    server.server_close()
    with pytest.raises(PartnerChannelError, match="无法连接合作方"):
        PartnerClient(f"tlcp://localhost:{server.server_port}", ca_file=ca_file).get_json("/")


def test_plain_http_through_the_same_client(serve):
    server = serve(plain=True)
    client = client_for(f"http://127.0.0.1:{server.server_port}/base")
    status, body = client.post_json("/echo", [1, 2])
    assert (
        status == 200 and body["echo"] == [1, 2] and body["cipher"] is None and body["path"] == "/base/echo"
    )
    client.close()


def test_url_checks(ca_file):
    with pytest.raises(ValueError, match="scheme"):
        PartnerClient("ftp://bank.example/")
    with pytest.raises(ValueError, match="ca_file"):
        PartnerClient("tlcp://bank.example:8443/")
    client = PartnerClient("tlcp://bank.example/api/", ca_file=ca_file)
    assert (client.host, client.port, client.prefix, client.scheme) == ("bank.example", 443, "/api", "tlcp")


def test_connection_class_directly(serve, pki):
    server = serve()
    ctx = TLCPContext(server_side=False, trust_anchors=[pki.ca])
    conn = TLCPHTTPSConnection("localhost", server.server_port, context=ctx, timeout=5)
    conn.request("GET", "/direct")
    response = conn.getresponse()
    assert response.status == 200 and json.loads(response.read())["path"] == "/direct"
    assert conn.session is not None and conn.sock.version() == "TLCP"
    conn.close()
