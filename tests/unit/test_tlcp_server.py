"""[tlcp] settings and the worker's handshake path, without gunicorn."""

from __future__ import annotations

import logging
import socket
import threading
import time
from datetime import timedelta

import pytest

from hpf.config import TLCP_DEFAULT_SUITES, load_settings
from hpf.crypto.sm2 import SM2PrivateKey
from hpf.domain.errors import ConfigError
from hpf.tlcp import ECC_SM4_CBC_SM3, TLCPContext
from hpf.tlcp import server as tlcp_server
from tests.unit.tlcp_support import Pki, connect, listener


def _write_server_files(pki: Pki, folder, *, days: int = 365) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    creds = pki.credentials(days=days)
    (folder / "sign.crt").write_text(creds.sign_cert.to_pem())
    (folder / "enc.crt").write_text(creds.enc_cert.to_pem())
    (folder / "sign.key").write_text(creds.sign_key.to_pem())
    (folder / "enc.key").write_text(creds.enc_key.to_pem())
    # as hpf certs make-server writes it: signing ‖ encryption ‖ CA
    (folder / "chain.pem").write_text(creds.sign_cert.to_pem() + creds.enc_cert.to_pem() + pki.ca.to_pem())
    (folder / "ca.crt").write_text(pki.ca.to_pem())


@pytest.fixture(scope="module")
def pki():
    return Pki.make()


def settings(tmp_path, **env):
    return load_settings({"HPF_INSTANCE_PATH": str(tmp_path / "instance"), **env})


# ---------------------------------------------------------------- settings


def test_defaults_and_env_override(tmp_path):
    tlcp = settings(tmp_path).tlcp
    assert (tlcp.enabled, tlcp.bind, tlcp.client_auth, tlcp.handshake_timeout) == (
        False,
        "127.0.0.1:8443",
        "none",
        10.0,
    )
    assert tlcp.cipher_suites == TLCP_DEFAULT_SUITES and tlcp.plain_http and not tlcp.tls_bind
    assert (tlcp.session_cache_size, tlcp.session_ttl) == (20000, 3600)
    tlcp = settings(
        tmp_path,
        HPF_TLCP_CIPHER_SUITES="ECC-SM2-SM4-GCM-SM3, ecc_sm4_cbc_sm3",
        HPF_TLCP_HANDSHAKE_TIMEOUT="2.5",
    ).tlcp
    assert tlcp.suites == ("ECC-SM2-SM4-GCM-SM3", "ecc_sm4_cbc_sm3") and tlcp.handshake_timeout == 2.5


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HPF_TLCP_CIPHER_SUITES": "ECC_SM4_GCM_SM3,RC4_MD5"}, "密码套件 'RC4_MD5' 无效"),
        ({"HPF_TLCP_CIPHER_SUITES": " , "}, "不能为空"),
        ({"HPF_TLCP_CLIENT_AUTH": "maybe"}, "tlcp.client_auth"),
        ({"HPF_TLCP_HANDSHAKE_TIMEOUT": "0"}, "应为正数"),
        ({"HPF_TLCP_HANDSHAKE_TIMEOUT": "soon"}, "应为数字"),
        ({"HPF_TLCP_BIND": "8443"}, "HOST:PORT"),
        ({"HPF_TLCP_VERIFY": "1"}, None),  # not a key: the environment is only read for known keys
    ],
)
def test_bad_values(tmp_path, env, message):
    if message is None:
        settings(tmp_path, **env)
        return
    with pytest.raises(ConfigError, match=message):
        settings(tmp_path, **env)


def test_unknown_key_in_file(tmp_path):
    path = tmp_path / "hpf.conf"
    path.write_text("[tlcp]\nenabled = false\nciphers = x\n")
    with pytest.raises(ConfigError, match=r"未知的配置项 tlcp\.ciphers"):
        load_settings({"HPF_INSTANCE_PATH": str(tmp_path)}, config_file=str(path))


def test_enabled_without_certificates_points_at_hpf_certs(tmp_path):
    with pytest.raises(ConfigError, match="hpf certs make-server"):
        settings(tmp_path, HPF_TLCP_ENABLED="true")
    with pytest.raises(ConfigError, match="hpf certs make-server") as caught:
        settings(
            tmp_path,
            HPF_TLCP_ENABLED="1",
            **{
                f"HPF_TLCP_{k}": str(tmp_path / "nope.crt")
                for k in ("SIGN_CERT", "SIGN_KEY", "ENC_CERT", "ENC_KEY")
            },
        )
    assert "nope.crt" in caught.value.message


def test_enabled_uses_the_instance_folder(tmp_path, pki):
    _write_server_files(pki, tmp_path / "instance" / "tlcp")
    tlcp = settings(tmp_path, HPF_TLCP_ENABLED="on").tlcp
    assert tlcp.sign_cert.endswith("tlcp/sign.crt") and tlcp.chain.endswith("tlcp/chain.pem")
    with pytest.raises(ConfigError, match=r"tlcp\.ca_file"):
        settings(tmp_path, HPF_TLCP_ENABLED="on", HPF_TLCP_CLIENT_AUTH="required")
    with pytest.raises(ConfigError, match="tls_cert"):
        settings(tmp_path, HPF_TLCP_ENABLED="on", HPF_TLCP_TLS_BIND="127.0.0.1:9443")


def test_server_context_from_files(tmp_path, pki):
    folder = tmp_path / "instance" / "tlcp"
    _write_server_files(pki, folder)
    s = settings(
        tmp_path,
        HPF_TLCP_ENABLED="on",
        HPF_TLCP_CLIENT_AUTH="optional",
        HPF_TLCP_CA_FILE=str(folder / "ca.crt"),
        HPF_TLCP_CIPHER_SUITES="ECC_SM4_CBC_SM3",
    )
    ctx = tlcp_server.build_server_context(s.tlcp)
    assert (
        ctx.suites == (ECC_SM4_CBC_SM3,) and ctx.client_auth == "optional" and ctx.trust_anchors == [pki.ca]
    )
    assert len(ctx.credentials.certificate_list()) == 3  # signing, encryption, CA: each once
    (folder / "enc.key").write_text(pki.credentials().enc_key.to_pem())  # another key
    with pytest.raises(ConfigError, match="TLCP 证书或私钥无效"):
        tlcp_server.build_server_context(s.tlcp)


def test_server_context_with_password_protected_keys(tmp_path, pki):
    folder = tmp_path / "instance" / "tlcp"
    _write_server_files(pki, folder)
    for name in ("sign.key", "enc.key"):  # as `hpf certs make-server --key-password-env` writes them
        key = SM2PrivateKey.from_pem((folder / name).read_text())
        (folder / name).write_text(key.to_pem("k3y-pass"))
    locked = settings(tmp_path, HPF_TLCP_ENABLED="on")
    with pytest.raises(ConfigError, match="需要提供口令"):
        tlcp_server.build_server_context(locked.tlcp)
    unlocked = settings(tmp_path, HPF_TLCP_ENABLED="on", HPF_TLCP_KEY_PASSWORD="k3y-pass")
    assert len(tlcp_server.build_server_context(unlocked.tlcp).credentials.certificate_list()) == 3


def test_listeners_and_startup_report(tmp_path, pki):
    folder = tmp_path / "instance" / "tlcp"
    _write_server_files(pki, folder, days=10)
    s = settings(tmp_path, HPF_TLCP_ENABLED="on", HPF_SERVER_BIND="127.0.0.1:8000")
    assert tlcp_server.binds(s) == ["127.0.0.1:8000", "127.0.0.1:8443"]
    assert tlcp_server.listener_protocols(s) == {8000: "http", 8443: "tlcp"}
    report = tlcp_server.describe(s)
    assert any("listener 127.0.0.1:8443: TLCP" in line for _, line in report)
    warnings = [line for level, line in report if level == logging.WARNING]
    assert len(warnings) == 1 and "signing certificate" in warnings[0] and "expires in" in warnings[0]
    off = settings(
        tmp_path, HPF_TLCP_ENABLED="on", HPF_TLCP_PLAIN_HTTP="false", HPF_TLCP_BIND="127.0.0.1:8000"
    )
    assert tlcp_server.binds(off) == ["127.0.0.1:8000"]
    with pytest.raises(ConfigError, match="监听地址冲突"):
        tlcp_server.binds(settings(tmp_path, HPF_TLCP_ENABLED="on", HPF_TLCP_BIND="0.0.0.0:8000"))
    assert tlcp_server.listener_protocols(settings(tmp_path)) == {8000: "http"}


# ---------------------------------------------------------------- the handshake path


@pytest.fixture
def server_ctx(pki):
    return TLCPContext(server_side=True, credentials=pki.credentials(), handshake_timeout=1.0)


def _accept_in_thread(server_ctx, lsock):
    result = {}

    def run():
        sock, addr = lsock.accept()
        result["conn"] = tlcp_server.tlcp_handshake(server_ctx, sock, addr)
        result["sock"] = sock
        if result["conn"] is not None:
            data = result["conn"].recv(100)
            result["conn"].sendall(b"ok:" + data)
            result["conn"].close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def _tlcp_warnings(caplog):
    return [r for r in caplog.records if r.name == "hpf.tlcp" and r.levelno == logging.WARNING]


def test_handshake_success(server_ctx, pki, caplog):
    lsock = listener()
    thread, result = _accept_in_thread(server_ctx, lsock)
    client = connect(TLCPContext(server_side=False, trust_anchors=[pki.ca]), lsock.getsockname()[1])
    client.sendall(b"hi")
    assert client.recv(100) == b"ok:hi"
    thread.join(5)
    assert isinstance(result["conn"], tlcp_server.ServerTLCPSocket) and result["conn"].gettimeout() is None
    assert not _tlcp_warnings(caplog)


def test_garbage_is_one_warning_and_closed(server_ctx, caplog):
    lsock = listener()
    thread, result = _accept_in_thread(server_ctx, lsock)
    with socket.create_connection(lsock.getsockname()) as raw:
        raw.sendall(b"\x16\x01\x01\x00\x05hello" + b"\x00" * 40)
        raw.settimeout(5)
        reply = raw.recv(100)
    thread.join(5)
    assert result["conn"] is None and result["sock"].fileno() == -1
    assert reply[:1] == b"\x15"  # a fatal alert went back
    [record] = _tlcp_warnings(caplog)
    assert record.alert in ("decode_error", "unexpected_message", "handshake_failure")
    assert "peer=127.0.0.1:" in record.getMessage() and record.reason in record.getMessage()


def test_a_dribbling_peer_is_dropped_at_the_deadline(server_ctx, caplog):
    """The bound covers the whole handshake, not each read."""
    lsock = listener()
    thread, result = _accept_in_thread(server_ctx, lsock)
    start = time.monotonic()
    with socket.create_connection(lsock.getsockname()) as raw:
        hello = b"\x16\x01\x01\x00\x40" + b"\x01" * 20
        for byte in hello:
            try:
                raw.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.1)
            if not thread.is_alive():
                break
        thread.join(5)
    assert result["conn"] is None and time.monotonic() - start < 2.0
    [record] = _tlcp_warnings(caplog)
    assert record.alert == "timeout" and "1 s" in record.reason


def test_transport_environ(server_ctx, pki):
    seen = {}
    app = tlcp_server.TransportEnviron(lambda environ, start: seen.update(environ) or [b""])
    app({"wsgi.url_scheme": "http", "gunicorn.socket": object()}, None)
    assert seen["wsgi.url_scheme"] == "http" and "tlcp.cipher" not in seen
    lsock = listener()
    thread, result = _accept_in_thread(server_ctx, lsock)
    client = connect(TLCPContext(server_side=False, trust_anchors=[pki.ca]), lsock.getsockname()[1])
    for _ in range(50):
        if "conn" in result:
            break
        time.sleep(0.05)
    app({"wsgi.url_scheme": "http", "gunicorn.socket": result["conn"]}, None)
    assert seen["wsgi.url_scheme"] == "https" and seen["tlcp.cipher"] == "ECC_SM4_GCM_SM3"
    client.sendall(b"x")
    client.close()
    thread.join(5)


def test_expiry_warning_threshold():
    assert tlcp_server.EXPIRY_WARNING_DAYS == 30
    assert timedelta(days=tlcp_server.EXPIRY_WARNING_DAYS).days == 30
