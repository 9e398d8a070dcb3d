"""Password-protected SM2 private keys (PKCS#8 PBES2: PBKDF2-HMAC-SM3 + SM4-CBC, GmSSL's format)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hpf.cli import cli
from hpf.crypto import asn1, keyfmt
from hpf.crypto.errors import InvalidKey
from hpf.crypto.sm2 import SM2PrivateKey, SM2PublicKey
from hpf.domain.errors import ConfigError

# Made by GmSSL 3.2.0: `gmssl sm2keygen -pass 'P@ssw0rd' -out gk.pem -pubout gpub.pem`
GMSSL_KEY = """-----BEGIN ENCRYPTED PRIVATE KEY-----
MIIBBjBhBgkqhkiG9w0BBQ0wVDA0BgkqhkiG9w0BBQwwJwQQ1YTz2Qn7qKJ3gzSV
W21yrAIDAQAAAgEQMAsGCSqBHM9VAYMRAjAcBggqgRzPVQFoAgQQarcM02ovhcF+
pgw7ndycfgSBoAI2iyawCODuI3m00hpEFWIBMyy66L6uDNFpeAAAa2xg6tsRVDBd
5XE869kwXOIwGYv17/HPxemr35FJINMpDxnXLReBMI7PpVdnFpHulcrezNXThSVS
/CoOzJ+bL51qqIILJFrFJVe+/yNm+Da+nIfpMvVRLikyFVB1YZsf3i/tIMBvGWAy
/6L0k5sPczqrPfValvt9SR+tmq9SvQwClDo=
-----END ENCRYPTED PRIVATE KEY-----
"""
GMSSL_PUBLIC = """-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAE3+vgU7UNTrzhwpadqgH6+F4TC9M9
jMNBzundAALy1Dbm18fNnptefvYB5PvYpO38iafWgGO+jef1LSpAmg1uZA==
-----END PUBLIC KEY-----
"""


def test_reads_a_gmssl_encrypted_key():
    key = SM2PrivateKey.from_pem(GMSSL_KEY, "P@ssw0rd")
    assert key.public_key() == SM2PublicKey.from_pem(GMSSL_PUBLIC)


def test_wrong_or_missing_password_is_refused():
    with pytest.raises(InvalidKey, match="口令错误"):
        SM2PrivateKey.from_pem(GMSSL_KEY, "wrong")
    with pytest.raises(InvalidKey, match="需要提供口令"):
        SM2PrivateKey.from_pem(GMSSL_KEY)


def test_round_trip_and_the_format_written():
    key = SM2PrivateKey.generate()
    pem = key.to_pem("s3cret!")
    assert pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert SM2PrivateKey.from_pem(pem, b"s3cret!").public_key() == key.public_key()
    der = keyfmt.from_pem(pem, ("ENCRYPTED PRIVATE KEY",), InvalidKey)[1]
    algorithm, _ = asn1.decode_sequence(der, asn1.SEQUENCE, asn1.OCTET_STRING)
    oids = [asn1.encode_oid(o)[2:] for o in (keyfmt.PBES2, keyfmt.PBKDF2, keyfmt.HMAC_SM3, keyfmt.SM4_CBC)]
    assert all(o in algorithm for o in oids)  # the algorithms GmSSL writes and reads
    # The unencrypted PKCS#8 now carries the curve in ECPrivateKey [0] (GmSSL needs it).
    assert asn1.encode_tagged(0, keyfmt.SM2_CURVE) in key.to_der()


@pytest.mark.parametrize(
    "der",
    [b"", b"\x30\x00", b"\x30\x03\x02\x01\x00", bytes(64)],
    ids=["empty", "empty-seq", "int", "zeros"],
)
def test_malformed_encrypted_keys_are_invalid_key(der):
    with pytest.raises(InvalidKey):
        keyfmt.decrypt_private_key(der, b"x")


def test_absurd_iteration_counts_are_refused(monkeypatch):
    key = SM2PrivateKey.generate()
    der = keyfmt.encrypt_private_key(key.to_der(), b"pw", iterations=2)
    assert SM2PrivateKey.from_der(keyfmt.decrypt_private_key(der, b"pw")).public_key() == key.public_key()
    monkeypatch.setattr(keyfmt, "MAX_ITERATIONS", 1)  # a planted file must not pin a CPU for minutes
    with pytest.raises(InvalidKey, match="参数不合理"):
        keyfmt.decrypt_private_key(der, b"pw")


def test_certs_commands_write_and_read_encrypted_keys(tmp_path, monkeypatch):
    monkeypatch.setenv("CA_PW", "ca-pass")
    runner = CliRunner()
    ca = tmp_path / "ca"
    result = runner.invoke(cli, ["certs", "make-ca", "--out", str(ca), "--key-password-env", "CA_PW"])
    assert result.exit_code == 0, result.output
    assert "ENCRYPTED PRIVATE KEY" in (ca / "ca.key").read_text()
    # An encrypted CA key without its password: one clear line, nothing written.
    result = runner.invoke(cli, ["certs", "make-server", "--ca", str(ca), "--out", str(tmp_path / "s")])
    assert result.exit_code != 0 and "口令" in result.output and not (tmp_path / "s" / "sign.key").exists()
    result = runner.invoke(
        cli,
        [
            "certs",
            "make-server",
            "--ca",
            str(ca),
            "--out",
            str(tmp_path / "s"),
            "--key-password-env",
            "CA_PW",
        ],
    )
    assert result.exit_code == 0, result.output
    assert SM2PrivateKey.from_pem((tmp_path / "s" / "sign.key").read_text(), "ca-pass")
    result = runner.invoke(
        cli, ["certs", "make-ca", "--out", str(tmp_path / "x"), "--key-password-env", "NOPE"]
    )
    assert result.exit_code == 2 and "NOPE" in result.output


def test_tlcp_key_password_only_from_the_environment(tmp_path):
    from hpf.config import load_settings

    conf = tmp_path / "hpf.conf"
    conf.write_text("[tlcp]\nkey_password = hunter2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="HPF_TLCP_KEY_PASSWORD"):
        load_settings(environ={"HPF_INSTANCE_PATH": str(tmp_path)}, config_file=str(conf))
    settings = load_settings(environ={"HPF_INSTANCE_PATH": str(tmp_path), "HPF_TLCP_KEY_PASSWORD": "hunter2"})
    assert settings.tlcp.key_password == "hunter2"
