"""`hpf certs …`: the test SM2 PKI for TLCP (CA, server and client double certificates) and
certificate inspection. Runs on files only: no database is needed or touched."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from hpf.cli import cli
from hpf.crypto.sm2 import SM2PrivateKey
from hpf.crypto.x509 import Certificate, CertificateError, load_pem_chain, verify_chain

GMSSL = next((p for p in ("/work/interop/bin/gmssl", shutil.which("gmssl")) if p and Path(p).is_file()), None)


@pytest.fixture
def run(tmp_path, monkeypatch):
    # An unreachable database: the certs commands must not need one.
    monkeypatch.setenv("HPF_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("HPF_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("HPF_CONFIG", raising=False)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, ["certs", *args], catch_exceptions=False)

    return invoke


@pytest.fixture
def ca_dir(run, tmp_path):
    result = run("make-ca", "--out", str(tmp_path / "ca"))
    assert result.exit_code == 0, result.output
    return tmp_path / "ca"


def test_make_ca(run, ca_dir):
    cert = Certificate.from_pem((ca_dir / "ca.crt").read_text())
    key = SM2PrivateKey.from_pem((ca_dir / "ca.key").read_text())
    assert key.public_key() == cert.public_key
    assert stat.S_IMODE((ca_dir / "ca.key").stat().st_mode) == 0o600
    assert cert.is_ca and cert.key_usage == frozenset({"keyCertSign", "cRLSign"}) and cert.is_self_issued()
    assert str(cert.subject) == "C=CN, O=HPF Core, CN=HPF 测试根CA"
    assert (cert.not_after - cert.not_before).days == 3650
    assert verify_chain(cert, [], [cert], role="ca")


def test_make_ca_refuses_to_overwrite_unless_forced(run, ca_dir):
    before = (ca_dir / "ca.crt").read_text()
    result = run("make-ca", "--out", str(ca_dir))
    assert result.exit_code == 1 and "--force" in result.output and "已存在" in result.output
    assert (ca_dir / "ca.crt").read_text() == before
    (ca_dir / "ca.key").chmod(0o644)
    result = run(
        "make-ca", "--out", str(ca_dir), "--force", "--cn", "第二个CA", "--org", "某中心", "--days", "30"
    )
    assert result.exit_code == 0, result.output
    cert = Certificate.from_pem((ca_dir / "ca.crt").read_text())
    assert (
        str(cert.subject) == "C=CN, O=某中心, CN=第二个CA" and (cert.not_after - cert.not_before).days == 30
    )
    assert stat.S_IMODE((ca_dir / "ca.key").stat().st_mode) == 0o600


@pytest.mark.parametrize("days", ["0", "3651", "10000"])
def test_validity_is_limited(run, tmp_path, days):
    result = run("make-ca", "--out", str(tmp_path / "x"), "--days", days)
    assert result.exit_code == 2 and "3650" in result.output
    assert not (tmp_path / "x").exists()


def test_make_server_pair(run, ca_dir, tmp_path):
    out = tmp_path / "server"
    result = run("make-server", "--ca", str(ca_dir), "--out", str(out))
    assert result.exit_code == 0, result.output
    ca = Certificate.from_pem((ca_dir / "ca.crt").read_text())
    sign = Certificate.from_pem((out / "sign.crt").read_text())
    enc = Certificate.from_pem((out / "enc.crt").read_text())
    assert [c.der for c in load_pem_chain((out / "chain.pem").read_text())] == [sign.der, enc.der, ca.der]
    for name, cert in (("sign", sign), ("enc", enc)):
        assert stat.S_IMODE((out / f"{name}.key").stat().st_mode) == 0o600
        assert SM2PrivateKey.from_pem((out / f"{name}.key").read_text()).public_key() == cert.public_key
        assert cert.dns_names == ("localhost",) and cert.ip_addresses == ("127.0.0.1",)
        assert cert.extended_key_usage == ("serverAuth",) and not cert.is_ca
        assert (cert.not_after - cert.not_before).days == 365
        verify_chain(cert, [], [ca], role=name, hostname="localhost")
    assert sign.key_usage == frozenset({"digitalSignature", "nonRepudiation"})
    assert enc.key_usage == frozenset({"keyEncipherment", "dataEncipherment", "keyAgreement"})
    assert sign.subject == enc.subject  # GmSSL requires the pair to name the same entity
    with pytest.raises(CertificateError):
        verify_chain(enc, [], [ca], role="sign")


def test_make_server_names_and_errors(run, ca_dir, tmp_path):
    out = tmp_path / "s"
    result = run(
        "make-server",
        "--ca",
        str(ca_dir),
        "--out",
        str(out),
        "--cn",
        "hpf.example.cn",
        "--dns",
        "hpf.example.cn",
        "--dns",
        "*.hpf.example.cn",
        "--ip",
        "10.0.0.1",
        "--ip",
        "::1",
        "--days",
        "30",
    )
    assert result.exit_code == 0, result.output
    sign = Certificate.from_pem((out / "sign.crt").read_text())
    assert sign.dns_names == ("hpf.example.cn", "*.hpf.example.cn")
    assert sign.ip_addresses == ("10.0.0.1", "::1") and sign.subject.get("CN") == "hpf.example.cn"
    assert run("make-server", "--ca", str(ca_dir), "--out", str(out)).exit_code == 1  # exists
    assert run("make-server", "--ca", str(ca_dir), "--out", str(out), "--force").exit_code == 0
    bad_ip = run("make-server", "--ca", str(ca_dir), "--out", str(tmp_path / "b"), "--ip", "300.1.1.1")
    assert bad_ip.exit_code == 2 and "IP" in bad_ip.output
    bad_dns = run("make-server", "--ca", str(ca_dir), "--out", str(tmp_path / "b"), "--dns", "公积金.cn")
    assert bad_dns.exit_code == 2 and "xn--" in bad_dns.output
    (tmp_path / "empty").mkdir()
    no_ca = run("make-server", "--ca", str(tmp_path / "empty"), "--out", str(tmp_path / "b"))
    assert no_ca.exit_code == 1 and "make-ca" in no_ca.output


def test_make_client_pair(run, ca_dir, tmp_path):
    out = tmp_path / "client"
    assert run("make-client", "--ca", str(ca_dir), "--out", str(out)).exit_code == 2  # --cn is required
    result = run("make-client", "--ca", str(ca_dir), "--out", str(out), "--cn", "单位网厅客户端")
    assert result.exit_code == 0, result.output
    ca = Certificate.from_pem((ca_dir / "ca.crt").read_text())
    sign, enc, last = load_pem_chain((out / "chain.pem").read_text())
    assert last == ca and sign.subject.get("CN") == "单位网厅客户端"
    assert sign.extended_key_usage == enc.extended_key_usage == ("clientAuth",)
    assert sign.dns_names == () and sign.ip_addresses == ()
    verify_chain(sign, [], [ca], role="sign")
    verify_chain(enc, [], [ca], role="enc")


def test_inspect(run, ca_dir, tmp_path):
    out = tmp_path / "server"
    run("make-server", "--ca", str(ca_dir), "--out", str(out))
    result = run("inspect", str(out / "sign.crt"))
    assert result.exit_code == 0, result.output
    for text in (
        "主体: C=CN, O=HPF Core, CN=localhost",
        "签发者: C=CN, O=HPF Core, CN=HPF 测试根CA",
        "北京时间",
        "digitalSignature, nonRepudiation",
        "serverAuth",
        "localhost",
        "127.0.0.1",
        "SM3 指纹",
        "1.2.156.10197.1.501 (SM2-with-SM3)",
        "CA 证书: 否",
    ):
        assert text in result.output
    assert "校验" not in result.output

    result = run("inspect", str(out / "chain.pem"), "--ca", str(ca_dir / "ca.crt"), "--hostname", "localhost")
    assert result.exit_code == 0, result.output
    assert "证书 3/3" in result.output and result.output.count("校验通过") == 3

    result = run("inspect", str(out / "enc.crt"), "--ca", str(ca_dir / "ca.crt"), "--role", "sign")
    assert result.exit_code == 1 and "bad_key_usage" in result.output and "校验失败" in result.output
    result = run("inspect", str(out / "sign.crt"), "--ca", str(ca_dir / "ca.crt"), "--hostname", "x.example")
    assert result.exit_code == 1 and "name_mismatch" in result.output

    result = run(
        "inspect", str(out / "chain.pem"), "--json", "--ca", str(ca_dir / "ca.crt"), "--role", "sign"
    )
    data = json.loads(result.output)
    assert result.exit_code == 1 and len(data) == 3
    assert data[0]["verification"] == {"ok": True} and data[1]["verification"]["reason"] == "bad_key_usage"
    assert data[2]["is_ca"] is True and data[2]["verification"]["ok"] is True
    assert data[0]["key_usage"] == ["digitalSignature", "nonRepudiation"]
    assert data[0]["serial"] == f"{Certificate.from_pem((out / 'sign.crt').read_text()).serial:x}"

    other = tmp_path / "other"
    run("make-ca", "--out", str(other))
    result = run("inspect", str(out / "sign.crt"), "--ca", str(other / "ca.crt"))
    assert result.exit_code == 1 and "unknown_ca" in result.output


def test_inspect_der_and_garbage(run, ca_dir, tmp_path):
    der_file = tmp_path / "ca.der"
    der_file.write_bytes(Certificate.from_pem((ca_dir / "ca.crt").read_text()).der)
    result = run("inspect", str(der_file), "--json")
    assert result.exit_code == 0 and json.loads(result.output)[0]["is_ca"] is True
    junk = tmp_path / "junk.pem"
    junk.write_text("hello")
    result = run("inspect", str(junk))
    assert result.exit_code == 1 and result.output.startswith("错误: ")


@pytest.mark.skipif(GMSSL is None, reason="n/a: no gmssl command")
def test_gmssl_accepts_the_generated_server_chain(run, ca_dir, tmp_path):
    out = tmp_path / "server"
    run("make-server", "--ca", str(ca_dir), "--out", str(out))
    result = subprocess.run(
        [
            GMSSL,
            "certverify",
            "-tlcp_server",
            "-in",
            str(out / "chain.pem"),
            "-cacert",
            str(ca_dir / "ca.crt"),
            "-hostname",
            "localhost",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "Verification success" in result.stdout, result.stderr
