"""SM2 keys in SPKI / PKCS#8 / SEC1 (DER and PEM), and interoperability with the OpenSSL
command line: an implementation of the SM2 protocol independent of ours (its own Z value,
signature and ciphertext code), so agreement here is agreement with another product."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from hpf import crypto
from hpf.crypto import asn1, keyfmt, selftest
from hpf.crypto.errors import InvalidKey, InvalidPublicKey

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="n/a: no openssl command on this machine")


def openssl(*args: str, data: bytes | None = None) -> bytes:
    return subprocess.run([OPENSSL, *args], input=data, capture_output=True, check=True, timeout=30).stdout


def test_round_trips_and_the_standard_key():
    key = crypto.SM2PrivateKey(selftest.SM2_D)
    assert crypto.SM2PrivateKey.from_der(key.to_der()).to_bytes() == key.to_bytes()
    assert crypto.SM2PrivateKey.from_pem(key.to_pem()).to_bytes() == key.to_bytes()
    pub = key.public_key()
    assert crypto.SM2PublicKey.from_der(pub.to_der()) == pub
    assert crypto.SM2PublicKey.from_pem(pub.to_pem()) == pub
    assert pub.to_pem().startswith("-----BEGIN PUBLIC KEY-----\n") and key.to_pem().count("\n") > 3


def test_the_bare_sm2_algorithm_oid_is_accepted():
    pub = crypto.SM2PrivateKey.generate().public_key()
    bare = asn1.encode_sequence(asn1.encode_sequence(keyfmt.SM2_CURVE),
                                asn1.encode_bit_string(pub.to_bytes()))
    assert crypto.SM2PublicKey.from_der(bare) == pub


@pytest.mark.parametrize("der", [
    b"", b"\x30\x00", b"\x30\x03\x02\x01\x00",
    asn1.encode_sequence(  # a P-256 key
        asn1.encode_sequence(keyfmt.ID_EC_PUBLIC_KEY, asn1.encode_oid("1.2.840.10045.3.1.7")),
        asn1.encode_bit_string(b"\x04" + bytes(64))),
])
def test_bad_public_key_containers(der):
    with pytest.raises(InvalidPublicKey):
        crypto.SM2PublicKey.from_der(der)


def test_bad_private_key_containers():
    key = crypto.SM2PrivateKey.generate()
    other = crypto.SM2PrivateKey.generate()
    mismatched = keyfmt.private_key_to_der(key.to_bytes(), other.public_key().to_bytes())
    with pytest.raises(InvalidKey, match="不匹配"):
        crypto.SM2PrivateKey.from_der(mismatched)
    for bad in (b"", key.to_der()[:-3], key.to_der() + b"\x00"):
        with pytest.raises(InvalidKey):
            crypto.SM2PrivateKey.from_der(bad)
    with pytest.raises(InvalidKey, match="PEM"):
        crypto.SM2PrivateKey.from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")


@needs_openssl
def test_keys_made_by_openssl_load_and_ours_load_in_openssl(tmp_path):
    sec1 = openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:SM2")
    theirs = crypto.SM2PrivateKey.from_pem(sec1)
    pkcs8 = openssl("pkcs8", "-topk8", "-nocrypt", data=sec1)
    assert crypto.SM2PrivateKey.from_pem(pkcs8).to_bytes() == theirs.to_bytes()
    their_pub = crypto.SM2PublicKey.from_pem(openssl("pkey", "-pubout", data=sec1))
    assert their_pub == theirs.public_key()
    ours = crypto.SM2PrivateKey.generate()
    path = tmp_path / "ours.pem"
    path.write_text(ours.to_pem())
    assert crypto.SM2PublicKey.from_pem(openssl("pkey", "-in", str(path), "-pubout")) == ours.public_key()


@needs_openssl
@pytest.mark.parametrize("name", ["native", "portable", "reference"])
def test_signatures_and_ciphertexts_interoperate_with_openssl(tmp_path, name):
    provider = crypto.build_provider(name)
    key = crypto.SM2PrivateKey.generate()
    key_file, msg_file = tmp_path / "k.pem", tmp_path / "m"
    key_file.write_text(key.to_pem())
    message = "缴存 2026-11 汇缴 1520.83".encode()
    msg_file.write_bytes(message)
    common = ["-inkey", str(key_file), "-rawin", "-digest", "sm3"]
    for uid in (b"1234567812345678", b"HPF-CENTRE-0001"):
        sign_file = tmp_path / f"ours-{uid.decode()}"
        sign_file.write_bytes(key.sign(message, uid=uid, provider=provider))
        out = openssl("pkeyutl", "-verify", "-in", str(msg_file), *common, "-pkeyopt",
                      f"distid:{uid.decode()}", "-sigfile", str(sign_file))
        assert b"Signature Verified Successfully" in out
        theirs = openssl("pkeyutl", "-sign", "-in", str(msg_file), *common,
                         "-pkeyopt", f"distid:{uid.decode()}")
        assert key.public_key().verify(theirs, message, uid=uid, provider=provider)
    sealed = openssl("pkeyutl", "-encrypt", "-in", str(msg_file), "-inkey", str(key_file))
    assert key.decrypt(sealed, form="asn1", provider=provider) == message  # GM/T 0009 SEQUENCE
    (tmp_path / "c").write_bytes(key.public_key().encrypt(message, form="asn1", provider=provider))
    assert openssl("pkeyutl", "-decrypt", "-in", str(tmp_path / "c"), "-inkey", str(key_file)) == message
