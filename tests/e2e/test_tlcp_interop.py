"""TLCP interoperability with independent implementations: GmSSL 3.x and Tongsuo (NTLS).

Runs when the tools are on PATH (``gmssl``; ``tongsuo``, Tongsuo's ``openssl`` built with
``enable-ntls``) and is skipped with a message otherwise; docs/tlcp.md says how an operator builds
them from source. Our side uses certificates from ``hpf certs``; GmSSL's side uses a PKI its own
tools make (its server only loads its own password-protected key format).

Accepted divergences (each pinned by a test here):
- GmSSL signs CertificateVerify over the raw handshake transcript; our server accepts that form as
  well as the standard SM3-hash form (``cert_verify_forms``), and our client can sign it for a
  GmSSL server (``cert_verify_sign_form="raw"``).
- GmSSL's server reads the client Certificate message as one chain, so a client sends it only the
  signing certificate (``client_certificates="single"``); Tongsuo wants sign + enc (our default).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from hpf.cli import cli
from hpf.crypto import x509
from hpf.tlcp import Credentials, TLCPContext, suite_by_name

GMSSL = shutil.which("gmssl")
TONGSUO = shutil.which("tongsuo")
PASS = "P@ssw0rd"
REQUEST = b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n"

needs_gmssl = pytest.mark.skipif(
    not GMSSL, reason="gmssl (GmSSL 3.x) 不在 PATH 上：跳过 GmSSL 互通测试（见 docs/tlcp.md）"
)
needs_tongsuo = pytest.mark.skipif(
    not TONGSUO, reason="tongsuo（启用 enable-ntls 的铜锁）不在 PATH 上：跳过铜锁互通测试（见 docs/tlcp.md）"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _hpf(*args: str) -> None:
    result = CliRunner().invoke(cli, ["certs", *args])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def ours(tmp_path_factory) -> Path:
    """Our PKI from the real commands: ca/, server/ and client/ (double certificates)."""
    root = tmp_path_factory.mktemp("hpf-pki")
    _hpf("make-ca", "--out", str(root / "ca"))
    _hpf("make-server", "--ca", str(root / "ca"), "--out", str(root / "server"))
    _hpf("make-client", "--ca", str(root / "ca"), "--out", str(root / "client"), "--cn", "partner")
    return root


def _creds(folder: Path) -> Credentials:
    return Credentials.load(
        folder / "sign.crt",
        folder / "sign.key",
        folder / "enc.crt",
        folder / "enc.key",
        folder.parent / "ca" / "ca.crt",
    )


def _anchors(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_chain(path.read_bytes())


class OurServer:
    """Our TLCP server in a thread: answers each request with a small HTTP response naming the
    suite, whether the session was resumed and how CertificateVerify was signed."""

    def __init__(self, ctx: TLCPContext) -> None:
        self.ctx = ctx
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.errors: list[BaseException] = []
        self.seen: list[str] = []
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        while True:
            try:
                raw, _ = self.sock.accept()
            except OSError:
                return
            try:
                conn = self.ctx.wrap_socket(raw)
                conn.recv(4096)
                body = (
                    f"suite={conn.suite.name} reused={conn.session_reused} cv={conn.cert_verify_form} "
                    f"peer={len(conn.peer_certificates)}\n"
                ).encode()
                self.seen.append(body.decode())
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
                conn.close()
            except Exception as exc:
                self.errors.append(exc)
                raw.close()

    def close(self) -> None:
        self.sock.close()


def _run(args: list[str], *, stdin: bytes = b"", cwd: Path | None = None, timeout: float = 20):
    return subprocess.run(args, input=stdin, capture_output=True, cwd=cwd, timeout=timeout, check=False)


def _start(args: list[str], *, cwd: Path, port: int) -> subprocess.Popen:
    # GmSSL's server dies of SIGPIPE when a client aborts; ignore it as its docs advise.
    proc = subprocess.Popen(
        args,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=lambda: signal.signal(signal.SIGPIPE, signal.SIG_IGN),
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise AssertionError(proc.stdout.read().decode(errors="replace")) from None
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("peer server did not start listening")


def _stop(proc: subprocess.Popen) -> str:
    proc.kill()
    out, _ = proc.communicate(timeout=5)
    return out.decode(errors="replace")


def _fetch(ctx: TLCPContext, port: int, session=None):
    conn = ctx.wrap_socket(
        socket.create_connection(("127.0.0.1", port), timeout=10),
        server_hostname="localhost",
        session=session,
    )
    conn.sendall(REQUEST)
    data = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
        if b"\n" in chunk and not chunk.startswith(b"HTTP"):
            break
    conn.close()
    return conn, data


# ---------------------------------------------------------------- GmSSL


@pytest.fixture(scope="module")
def gmssl_pki(tmp_path_factory) -> Path:
    """GmSSL's own double-certificate PKI (its tools/tlcp_help.h recipe), keys under a password."""
    d = tmp_path_factory.mktemp("gmssl-pki")
    subject = ["-C", "CN", "-ST", "Beijing", "-L", "Haidian", "-O", "GmSSL", "-OU", "Test"]

    def g(*args: str) -> None:
        result = _run([GMSSL, *args], cwd=d)
        assert result.returncode == 0, result.stderr.decode(errors="replace")

    g("sm2keygen", "-pass", PASS, "-out", "ca.key")
    g(
        "certgen",
        *subject,
        "-CN",
        "GmSSL Root",
        "-days",
        "3650",
        "-key",
        "ca.key",
        "-pass",
        PASS,
        "-out",
        "ca.crt",
        "-key_usage",
        "keyCertSign",
        "-key_usage",
        "cRLSign",
        "-ca",
    )
    for name, usage, eku in (
        ("sign", "digitalSignature", "serverAuth"),
        ("enc", "keyEncipherment", "serverAuth"),
        ("client", "digitalSignature", "clientAuth"),
    ):
        g("sm2keygen", "-pass", PASS, "-out", f"{name}.key")
        g("reqgen", *subject, "-CN", "localhost", "-key", f"{name}.key", "-pass", PASS, "-out", f"{name}.req")
        extra = ["-subject_dns_name", "localhost"] if name != "client" else []
        g(
            "reqsign",
            "-in",
            f"{name}.req",
            "-days",
            "365",
            "-key_usage",
            usage,
            "-ext_key_usage",
            eku,
            *extra,
            "-cacert",
            "ca.crt",
            "-key",
            "ca.key",
            "-pass",
            PASS,
            "-out",
            f"{name}.crt",
        )
    (d / "server_certs.pem").write_bytes((d / "sign.crt").read_bytes() + (d / "enc.crt").read_bytes())
    (d / "server_keys.pem").write_bytes((d / "sign.key").read_bytes() + (d / "enc.key").read_bytes())
    return d


def _gmssl_client(server: OurServer, ca_file: Path, suite: str, *extra: str):
    """``gmssl tlcp_client ... -get /`` against our server; closes the server afterwards."""
    try:
        return _run(
            [
                GMSSL,
                "tlcp_client",
                "-host",
                "127.0.0.1",
                "-port",
                str(server.port),
                "-server_name",
                "localhost",
                "-cacert",
                str(ca_file),
                "-cipher_suite",
                suite,
                *extra,
                "-get",
                "/",
            ]
        )
    finally:
        server.close()


@needs_gmssl
@pytest.mark.parametrize("suite", ["TLS_ECC_SM4_CBC_SM3", "TLS_ECC_SM4_GCM_SM3"])
def test_gmssl_client_to_our_server(suite, ours):
    server = OurServer(TLCPContext(server_side=True, credentials=_creds(ours / "server")))
    result = _gmssl_client(server, ours / "ca" / "ca.crt", suite)
    stderr = result.stderr.decode(errors="replace")
    assert result.returncode == 0, stderr
    assert f"CipherSuite: {suite}" in stderr
    assert f"suite={suite[4:]} reused=False" in result.stdout.decode()
    assert not server.errors


@needs_gmssl
def test_gmssl_client_certificate_to_our_server_raw_certificate_verify(ours, gmssl_pki):
    ctx = TLCPContext(
        server_side=True,
        credentials=_creds(ours / "server"),
        client_auth="required",
        trust_anchors=_anchors(gmssl_pki / "ca.crt"),
    )
    result = _gmssl_client(
        OurServer(ctx),
        ours / "ca" / "ca.crt",
        "TLS_ECC_SM4_CBC_SM3",
        "-cert",
        str(gmssl_pki / "client.crt"),
        "-key",
        str(gmssl_pki / "client.key"),
        "-pass",
        PASS,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert "cv=raw peer=1" in result.stdout.decode()  # GmSSL's form, accepted and recorded


def _via_gmssl_server(folder: Path, certs: str, keys: str, suite: str, ctx: TLCPContext, *extra: str):
    """Run ``gmssl tlcp_server`` (an echo server) on ``folder``'s files; fetch once with ``ctx``."""
    port = _free_port()
    proc = _start(
        [
            GMSSL,
            "tlcp_server",
            "-port",
            str(port),
            "-cert",
            certs,
            "-key",
            keys,
            "-pass",
            PASS,
            "-cipher_suite",
            "TLS_" + suite,
            *extra,
        ],
        cwd=folder,
        port=port,
    )
    try:
        return _fetch(ctx, port)
    finally:
        _stop(proc)


@needs_gmssl
@pytest.mark.parametrize("suite", ["ECC_SM4_CBC_SM3", "ECC_SM4_GCM_SM3"])
def test_our_client_to_gmssl_server(suite, gmssl_pki):
    ctx = TLCPContext(
        server_side=False, trust_anchors=_anchors(gmssl_pki / "ca.crt"), suites=[suite_by_name(suite)]
    )
    conn, echoed = _via_gmssl_server(gmssl_pki, "server_certs.pem", "server_keys.pem", suite, ctx)
    assert conn.suite.name == suite
    assert echoed == REQUEST  # GmSSL's tlcp_server echoes


@needs_gmssl
def test_our_client_certificate_to_gmssl_server(ours, gmssl_pki):
    ctx = TLCPContext(
        server_side=False,
        trust_anchors=_anchors(gmssl_pki / "ca.crt"),
        credentials=_creds(ours / "client"),
        suites=[suite_by_name("ECC_SM4_CBC_SM3")],
        cert_verify_sign_form="raw",
        client_certificates="single",
    )
    _, echoed = _via_gmssl_server(
        gmssl_pki,
        "server_certs.pem",
        "server_keys.pem",
        "ECC_SM4_CBC_SM3",
        ctx,
        "-cert_request",
        "-cacert",
        str(ours / "ca" / "ca.crt"),
    )
    assert echoed == REQUEST


@needs_gmssl
def test_gmssl_server_on_our_certificates_and_encrypted_keys(tmp_path, monkeypatch):
    """``hpf certs --key-password-env`` writes keys in GmSSL's encrypted format: its server runs
    on our double certificate as issued, and our client verifies it against our CA."""
    monkeypatch.setenv("HPF_TEST_KEY_PW", PASS)
    _hpf("make-ca", "--out", str(tmp_path / "ca"), "--key-password-env", "HPF_TEST_KEY_PW")
    server = tmp_path / "server"
    _hpf(
        "make-server",
        "--ca",
        str(tmp_path / "ca"),
        "--out",
        str(server),
        "--key-password-env",
        "HPF_TEST_KEY_PW",
    )
    (server / "keys.pem").write_bytes((server / "sign.key").read_bytes() + (server / "enc.key").read_bytes())
    ctx = TLCPContext(
        server_side=False,
        trust_anchors=_anchors(tmp_path / "ca" / "ca.crt"),
        suites=[suite_by_name("ECC_SM4_GCM_SM3")],
    )
    conn, echoed = _via_gmssl_server(server, "chain.pem", "keys.pem", "ECC_SM4_GCM_SM3", ctx)
    assert echoed == REQUEST and [c.der for c in conn.peer_certificates[:2]] == [
        x509.Certificate.from_pem((server / n).read_bytes()).der for n in ("sign.crt", "enc.crt")
    ]


# ---------------------------------------------------------------- Tongsuo

TONGSUO_SUITES = [
    "ECC-SM2-SM4-CBC-SM3",
    "ECC-SM2-SM4-GCM-SM3",
    "ECDHE-SM2-SM4-CBC-SM3",
    "ECDHE-SM2-SM4-GCM-SM3",
]


@needs_tongsuo
@pytest.mark.parametrize("suite", TONGSUO_SUITES)
def test_tongsuo_client_to_our_server(suite, ours):
    ecdhe = suite.startswith("ECDHE")
    ctx = TLCPContext(
        server_side=True,
        credentials=_creds(ours / "server"),
        trust_anchors=_anchors(ours / "ca" / "ca.crt"),
        client_auth="required" if ecdhe else "none",
    )
    server = OurServer(ctx)
    client = ours / "client"
    extra = (
        [
            "-sign_cert",
            str(client / "sign.crt"),
            "-sign_key",
            str(client / "sign.key"),
            "-enc_cert",
            str(client / "enc.crt"),
            "-enc_key",
            str(client / "enc.key"),
        ]
        if ecdhe
        else []
    )
    try:
        result = _run(
            [
                TONGSUO,
                "s_client",
                "-connect",
                f"127.0.0.1:{server.port}",
                "-cipher",
                suite,
                "-enable_ntls",
                "-ntls",
                "-CAfile",
                str(ours / "ca" / "ca.crt"),
                "-ign_eof",
                *extra,
            ],
            stdin=REQUEST,
        )
    finally:
        server.close()
    out = result.stdout.decode(errors="replace")
    assert f"Cipher is {suite}" in out and "Verification: OK" in out, out + result.stderr.decode()
    assert f"suite={suite_by_name(suite).name}" in out
    if ecdhe:
        assert "cv=hash peer=3" in out  # Tongsuo signs SM3(transcript), sends sign, enc and CA


@needs_tongsuo
@pytest.mark.parametrize("suite", TONGSUO_SUITES)
def test_our_client_to_tongsuo_server_with_resumption(suite, ours):
    port = _free_port()
    server, client = ours / "server", ours / "client"
    proc = _start(
        [
            TONGSUO,
            "s_server",
            "-accept",
            f"127.0.0.1:{port}",
            "-sign_cert",
            "sign.crt",
            "-sign_key",
            "sign.key",
            "-enc_cert",
            "enc.crt",
            "-enc_key",
            "enc.key",
            "-enable_ntls",
            "-www",
            "-CAfile",
            str(ours / "ca" / "ca.crt"),
            "-Verify",
            "1",
        ],
        cwd=server,
        port=port,
    )
    try:
        ctx = TLCPContext(
            server_side=False,
            trust_anchors=_anchors(ours / "ca" / "ca.crt"),
            credentials=_creds(client),
            suites=[suite_by_name(suite)],
        )
        first, page = _fetch(ctx, port)
        second, again = _fetch(ctx, port, session=first.session)
    finally:
        log = _stop(proc)
    assert page.startswith(b"HTTP/1.0 200 ok") and f"Cipher is {suite}".encode() in page, log
    assert not first.session_reused and second.session_reused
    assert again.startswith(b"HTTP/1.0 200 ok")


def test_interop_tools_are_reported():
    """Say in the test log which peers were available, so a green run without them is visible."""
    found = {name: path for name, path in (("gmssl", GMSSL), ("tongsuo", TONGSUO)) if path}
    missing = sorted({"gmssl", "tongsuo"} - found.keys())
    print(f"TLCP interop peers: found {found or 'none'}; missing {missing or 'none'}")
    if os.environ.get("HPF_REQUIRE_TLCP_INTEROP") == "1":
        assert not missing, f"HPF_REQUIRE_TLCP_INTEROP=1 but missing {missing}"
