"""SM2 X.509: parsing (strict, never crashing), chain verification per TLCP role, issuing, and
interoperability with Tongsuo and GmSSL (their test PKIs parse and verify here; certificates
issued here verify with their command lines)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpf.crypto import asn1
from hpf.crypto.errors import InvalidKey
from hpf.crypto.sm2 import SM2PrivateKey
from hpf.crypto.x509 import (
    OID_SM2_WITH_SM3,
    Certificate,
    CertificateError,
    Name,
    check_key_usage,
    issue,
    load_pem_chain,
    verify_chain,
)

SIGN = ("digitalSignature", "nonRepudiation")
ENC = ("keyEncipherment", "dataEncipherment", "keyAgreement")
CA_USAGE = ("keyCertSign", "cRLSign")
INTEROP = Path("/work/interop")
NOW = datetime.now(UTC)


def _tool(name: str) -> str | None:
    local = INTEROP / "bin" / name
    return str(local) if local.is_file() else shutil.which(name)


TONGSUO = _tool("tongsuo")
GMSSL = _tool("gmssl")


def make_ca(cn="HPF 测试根CA", *, issuer=None, issuer_key=None, path_len=None, key=None, **kw):
    key = key or SM2PrivateKey.generate()
    cert = issue(
        Name.build(C="CN", O="HPF", CN=cn),
        key.public_key(),
        issuer=issuer,
        issuer_key=issuer_key or key,
        days=kw.pop("days", 3650),
        is_ca=True,
        path_len=path_len,
        key_usage=kw.pop("key_usage", CA_USAGE),
        **kw,
    )
    return cert, key


def make_leaf(ca, ca_key, usage=SIGN, cn="localhost", **kw):
    key = SM2PrivateKey.generate()
    kw.setdefault("dns_names", ("localhost",))
    kw.setdefault("ip_addresses", ("127.0.0.1",))
    cert = issue(
        Name.build(C="CN", O="HPF", CN=cn),
        key.public_key(),
        issuer=ca,
        issuer_key=ca_key,
        key_usage=usage,
        extended_key_usage=kw.pop("eku", ("serverAuth",)),
        **kw,
    )
    return cert, key


@pytest.fixture(scope="module")
def pki():
    root, root_key = make_ca()
    sign, sign_key = make_leaf(root, root_key, SIGN)
    enc, enc_key = make_leaf(root, root_key, ENC)
    return {
        "root": root,
        "root_key": root_key,
        "sign": sign,
        "sign_key": sign_key,
        "enc": enc,
        "enc_key": enc_key,
    }


def reason(exc_info) -> str:
    return exc_info.value.reason


# ---------------------------------------------------------------- hand-built variants


def tlv(tag: int, contents: bytes) -> bytes:
    return asn1.encode_primitive(tag, contents)


def tbs_elements(cert: Certificate) -> list[tuple[int, bytes]]:
    body, _ = asn1.read_tlv(cert.tbs, 0, asn1.SEQUENCE)
    return asn1.read_all(body)


def assemble(elements, signer: SM2PrivateKey, algorithm_oid: str = OID_SM2_WITH_SM3) -> Certificate:
    """Re-sign a (modified) list of TBS elements into a certificate."""
    algorithm = asn1.encode_sequence(asn1.encode_oid(algorithm_oid))
    elements = list(elements)
    index = next(i for i, (t, c) in enumerate(elements) if t == asn1.SEQUENCE and c[:1] == b"\x06")
    elements[index] = (asn1.SEQUENCE, algorithm[2:])
    tbs = asn1.encode_sequence(*(tlv(t, c) for t, c in elements))
    der = asn1.encode_sequence(tbs, algorithm, asn1.encode_bit_string(signer.sign(tbs)))
    return Certificate.from_der(der)


def with_extra_extension(cert: Certificate, signer, oid: str, value: bytes, critical: bool) -> Certificate:
    elements = tbs_elements(cert)
    assert elements[-1][0] == 0xA3
    exts, _ = asn1.read_tlv(elements[-1][1], 0, asn1.SEQUENCE)
    extra = asn1.encode_sequence(
        asn1.encode_oid(oid),
        *([asn1.encode_boolean(True)] if critical else []),
        asn1.encode_octet_string(value),
    )
    elements[-1] = (0xA3, asn1.encode_sequence(exts + extra))
    return assemble(elements, signer)


# ---------------------------------------------------------------- issue / parse


def test_issue_round_trip_and_fields(pki):
    sign, root = pki["sign"], pki["root"]
    again = Certificate.from_der(sign.der)
    assert again.der == sign.der and again == sign and hash(again) == hash(sign)
    assert Certificate.from_pem(sign.to_pem()).der == sign.der
    assert sign.version == 3 and sign.serial > 0 and sign.serial.bit_length() <= 127
    assert sign.signature_algorithm == OID_SM2_WITH_SM3
    assert sign.issuer == root.subject and str(sign.subject) == "C=CN, O=HPF, CN=localhost"
    assert sign.key_usage == frozenset(SIGN) and sign.extended_key_usage == ("serverAuth",)
    assert sign.dns_names == ("localhost",) and sign.ip_addresses == ("127.0.0.1",)
    assert not sign.is_ca and sign.path_len is None
    assert sign.public_key == pki["sign_key"].public_key()
    assert sign.authority_key_id == root.subject_key_id and len(root.subject_key_id) == 20
    assert root.is_ca and root.key_usage == frozenset(CA_USAGE) and root.is_self_issued()
    assert not sign.is_self_issued()
    assert sign.not_before.tzinfo is not None and sign.not_after - sign.not_before == timedelta(days=365)
    # not_before is backdated five minutes from issuing time (read the clock now: NOW is set at import)
    assert timedelta(minutes=4) < datetime.now(UTC) - sign.not_before < timedelta(minutes=10)
    assert len(sign.fingerprint()) == 64 and sign.fingerprint() == sign.fingerprint().lower()
    assert sign.verify_signature(root.public_key) and not sign.verify_signature(sign.public_key)
    # AlgorithmIdentifier as GmSSL emits it: the OID alone, no NULL parameters.
    assert asn1.encode_sequence(asn1.encode_oid(OID_SM2_WITH_SM3)) in sign.der


def test_time_encodings_and_explicit_serial():
    key = SM2PrivateKey.generate()
    start = datetime(2049, 6, 1, tzinfo=UTC)
    cert = issue(
        Name.build(CN="late"),
        key.public_key(),
        issuer=None,
        issuer_key=key,
        serial=0x1234,
        not_before=start,
        days=400,
    )
    assert cert.serial == 0x1234
    assert b"\x17\x0d490601000000Z" in cert.tbs  # UTCTime before 2050
    assert b"\x18\x0f20500706000000Z" in cert.tbs  # GeneralizedTime from 2050
    assert (cert.not_before, cert.not_after) == (start, start + timedelta(days=400))
    verify_chain(cert, [], [cert], now=start + timedelta(days=1))


def test_name_build_and_str():
    name = Name.build([("C", "CN"), ("O", "公积金中心, 北京")], CN="a+b")
    assert name.attributes == (("C", "CN"), ("O", "公积金中心, 北京"), ("CN", "a+b"))
    assert str(name) == r"C=CN, O=公积金中心\, 北京, CN=a\+b"
    assert b"\x13\x02CN" in name.der and "公积金".encode() in name.der  # PrintableString, UTF8String
    assert Name.build(OU="x").get("OU") == "x" and Name.build(OU="x").get("CN") is None
    with pytest.raises(ValueError):
        Name.build(C="中国")


def test_issue_refuses_a_key_that_does_not_match(pki):
    other = SM2PrivateKey.generate()
    with pytest.raises(InvalidKey):
        issue(Name.build(CN="x"), other.public_key(), issuer=pki["root"], issuer_key=other)
    with pytest.raises(InvalidKey):
        issue(Name.build(CN="x"), other.public_key(), issuer=None, issuer_key=pki["root_key"])


def test_load_pem_chain_keeps_order(pki):
    text = pki["sign"].to_pem() + "junk between\n" + pki["enc"].to_pem() + pki["root"].to_pem()
    chain = load_pem_chain(text)
    assert [c.der for c in chain] == [pki["sign"].der, pki["enc"].der, pki["root"].der]
    assert load_pem_chain(text.encode())[2] == pki["root"]
    with pytest.raises(CertificateError) as exc:
        load_pem_chain("no certificate here")
    assert reason(exc) == "malformed"
    with pytest.raises(CertificateError):
        Certificate.from_pem("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n")


# ---------------------------------------------------------------- verification


def test_chain_ok_with_roles_and_hostnames(pki):
    root = pki["root"]
    assert verify_chain(pki["sign"], [], [root], role="sign", hostname="localhost") == [pki["sign"], root]
    assert verify_chain(pki["enc"], [pki["sign"]], [root], role="enc", hostname="127.0.0.1")[-1] == root
    assert verify_chain(pki["sign"], [], [root], hostname="LOCALHOST.")[0] == pki["sign"]
    assert verify_chain(root, [], [root], role="ca") == [root]


def test_intermediate_chain_and_pinned_intermediate():
    root, root_key = make_ca("root")
    sub, sub_key = make_ca("sub", issuer=root, issuer_key=root_key, path_len=0)
    leaf, _ = make_leaf(sub, sub_key)
    assert verify_chain(leaf, [sub], [root], role="sign") == [leaf, sub, root]
    assert verify_chain(leaf, [], [sub], role="sign") == [leaf, sub]
    assert verify_chain(leaf, [sub], [sub, root]) == [leaf, sub]
    with pytest.raises(CertificateError) as exc:
        verify_chain(leaf, [], [root])
    assert reason(exc) == "unknown_ca"


def test_expired_and_not_yet_valid(pki):
    past = NOW - timedelta(days=10)
    old, _ = make_leaf(pki["root"], pki["root_key"], not_before=past, days=1)
    with pytest.raises(CertificateError) as exc:
        verify_chain(old, [], [pki["root"]])
    assert reason(exc) == "expired" and exc.value.code == "certificate_invalid"
    assert exc.value.message == "证书已过期"
    future, _ = make_leaf(pki["root"], pki["root_key"], not_before=NOW + timedelta(days=2))
    with pytest.raises(CertificateError) as exc:
        verify_chain(future, [], [pki["root"]])
    assert reason(exc) == "not_yet_valid"
    with pytest.raises(CertificateError) as exc:
        verify_chain(pki["sign"], [], [pki["root"]], now=NOW + timedelta(days=400))
    assert reason(exc) == "expired"
    # an expired issuer fails the chain too
    with pytest.raises(CertificateError) as exc:
        verify_chain(pki["sign"], [], [pki["root"]], now=pki["root"].not_after + timedelta(seconds=1))
    assert reason(exc) == "expired"


def test_wrong_anchor_is_unknown_ca(pki):
    other, _ = make_ca("另一个CA")
    same_name, _ = make_ca()  # same DN as the real root, different key
    for anchors in ([other], [same_name], []):
        with pytest.raises(CertificateError) as exc:
            verify_chain(pki["sign"], [], anchors)
        assert reason(exc) == "unknown_ca"


def test_tampered_certificate_is_bad_signature(pki):
    der = bytearray(pki["sign"].der)
    der[-1] ^= 0x01  # last byte of s
    with pytest.raises(CertificateError) as exc:
        verify_chain(Certificate.from_der(bytes(der)), [], [pki["root"]])
    assert reason(exc) == "bad_signature"
    der = bytearray(pki["sign"].der)
    der[der.index(b"localhost")] = ord("L")  # inside the signed TBS
    with pytest.raises(CertificateError) as exc:
        verify_chain(Certificate.from_der(bytes(der)), [], [pki["root"]])
    assert reason(exc) == "bad_signature"
    # re-signed by the right key after the change: valid again (the helper below is sound)
    assert verify_chain(
        assemble(tbs_elements(Certificate.from_der(bytes(der))), pki["root_key"]), [], [pki["root"]]
    )


def test_role_key_usage(pki):
    with pytest.raises(CertificateError) as exc:
        verify_chain(pki["enc"], [], [pki["root"]], role="sign")
    assert reason(exc) == "bad_key_usage"
    with pytest.raises(CertificateError) as exc:
        verify_chain(pki["sign"], [], [pki["root"]], role="enc")
    assert reason(exc) == "bad_key_usage"
    with pytest.raises(CertificateError):
        check_key_usage(pki["sign"], "ca")
    check_key_usage(pki["root"], "ca")
    key = SM2PrivateKey.generate()
    no_ku = issue(Name.build(CN="x"), key.public_key(), issuer=pki["root"], issuer_key=pki["root_key"])
    assert no_ku.key_usage is None
    check_key_usage(no_ku, "sign")
    check_key_usage(no_ku, "enc")
    with pytest.raises(ValueError):
        check_key_usage(no_ku, "bogus")


def test_issuer_must_be_a_ca_with_key_cert_sign(pki):
    root, root_key = pki["root"], pki["root_key"]
    fake_ca, fake_key = make_leaf(root, root_key, SIGN)  # not a CA
    leaf, _ = make_leaf(fake_ca, fake_key)
    with pytest.raises(CertificateError) as exc:
        verify_chain(leaf, [fake_ca], [root])
    assert reason(exc) == "not_ca"
    no_sign, no_sign_key = make_ca("no keyCertSign", issuer=root, issuer_key=root_key, key_usage=("cRLSign",))
    leaf, _ = make_leaf(no_sign, no_sign_key)
    with pytest.raises(CertificateError) as exc:
        verify_chain(leaf, [no_sign], [root])
    assert reason(exc) == "bad_key_usage"


def test_path_len_and_max_depth():
    root, root_key = make_ca("root", path_len=0)
    sub, sub_key = make_ca("sub", issuer=root, issuer_key=root_key)
    leaf, _ = make_leaf(sub, sub_key)
    with pytest.raises(CertificateError) as exc:
        verify_chain(leaf, [sub], [root])
    assert reason(exc) == "path_too_long"
    root1, root1_key = make_ca("root1", path_len=1)
    sub1, sub1_key = make_ca("sub1", issuer=root1, issuer_key=root1_key)
    assert len(verify_chain(make_leaf(sub1, sub1_key)[0], [sub1], [root1])) == 3

    cas = [make_ca("ca0")]
    for i in range(1, 9):
        cas.append(make_ca(f"ca{i}", issuer=cas[-1][0], issuer_key=cas[-1][1]))
    deep, _ = make_leaf(*cas[-1])
    with pytest.raises(CertificateError) as exc:
        verify_chain(deep, [c for c, _ in cas[1:]], [cas[0][0]])
    assert reason(exc) == "path_too_long"
    assert len(verify_chain(deep, [c for c, _ in cas[3:]], [cas[2][0]])) == 8


def test_hostname_mismatch_and_wildcards(pki):
    root, key = pki["root"], pki["root_key"]
    for host in ("example.com", "127.0.0.2", "::1", "localhost.example"):
        with pytest.raises(CertificateError) as exc:
            verify_chain(pki["sign"], [], [root], hostname=host)
        assert reason(exc) == "name_mismatch"
    wild, _ = make_leaf(root, key, dns_names=("*.hpf.example.cn",), ip_addresses=("::1",))
    assert verify_chain(wild, [], [root], hostname="api.hpf.example.cn")
    assert verify_chain(wild, [], [root], hostname="::1")
    for host in ("hpf.example.cn", "a.b.hpf.example.cn", "example.cn"):
        with pytest.raises(CertificateError):
            verify_chain(wild, [], [root], hostname=host)
    too_wild, _ = make_leaf(root, key, dns_names=("*.cn",))
    with pytest.raises(CertificateError):
        verify_chain(too_wild, [], [root], hostname="example.cn")


def test_pinned_self_signed_leaf():
    key = SM2PrivateKey.generate()
    cert = issue(Name.build(CN="pinned"), key.public_key(), issuer=None, issuer_key=key, key_usage=SIGN)
    assert verify_chain(cert, [], [cert], role="sign") == [cert]
    with pytest.raises(CertificateError) as exc:
        verify_chain(cert, [], [cert], role="enc")
    assert reason(exc) == "bad_key_usage"
    with pytest.raises(CertificateError) as exc:
        verify_chain(cert, [cert], [])
    assert reason(exc) == "unknown_ca"


def test_bare_sm2_oid_spki_is_accepted(pki):
    leaf = pki["sign"]
    standard = leaf.public_key.to_der()
    bare = asn1.encode_sequence(
        asn1.encode_sequence(asn1.encode_oid("1.2.156.10197.1.301")),
        asn1.encode_bit_string(leaf.public_key.to_bytes()),
    )
    elements = [(t, c) for t, c in tbs_elements(leaf)]
    index = next(i for i, (t, c) in enumerate(elements) if tlv(t, c) == standard)
    elements[index] = (asn1.SEQUENCE, bare[2:])
    cert = assemble(elements, pki["root_key"])
    assert bare in cert.der and cert.public_key == leaf.public_key
    assert verify_chain(cert, [], [pki["root"]], role="sign")


def test_non_sm2_key_and_other_signature_algorithms(pki):
    elements = tbs_elements(pki["sign"])
    ecdsa = assemble(elements, pki["root_key"], algorithm_oid="1.2.840.10045.4.3.2")
    assert ecdsa.signature_algorithm == "1.2.840.10045.4.3.2"
    with pytest.raises(CertificateError) as exc:
        verify_chain(ecdsa, [], [pki["root"]])
    assert reason(exc) == "unsupported_algorithm"
    p256 = asn1.encode_sequence(
        asn1.encode_sequence(asn1.encode_oid("1.2.840.10045.2.1"), asn1.encode_oid("1.2.840.10045.3.1.7")),
        asn1.encode_bit_string(pki["sign"].public_key.to_bytes()),
    )
    index = next(i for i, (t, c) in enumerate(elements) if tlv(t, c) == pki["sign"].public_key.to_der())
    elements[index] = (asn1.SEQUENCE, p256[2:])
    with pytest.raises(CertificateError) as exc:
        assemble(elements, pki["root_key"])
    assert reason(exc) == "unsupported_algorithm"


def test_unknown_critical_extension_is_refused(pki):
    odd = with_extra_extension(pki["sign"], pki["root_key"], "1.2.3.4.5", b"\x05\x00", critical=True)
    assert odd.unhandled_critical == ("1.2.3.4.5",)
    with pytest.raises(CertificateError) as exc:
        verify_chain(odd, [], [pki["root"]])
    assert reason(exc) == "malformed" and "1.2.3.4.5" in exc.value.internal
    fine = with_extra_extension(pki["sign"], pki["root_key"], "1.2.3.4.5", b"\x05\x00", critical=False)
    assert verify_chain(fine, [], [pki["root"]])
    with pytest.raises(CertificateError) as exc:  # duplicate extension
        with_extra_extension(pki["sign"], pki["root_key"], "2.5.29.15", b"\x03\x01\x00", critical=False)
    assert reason(exc) == "malformed"


def test_v1_certificates():
    key = SM2PrivateKey.generate()
    template = issue(Name.build(CN="v1 root"), key.public_key(), issuer=None, issuer_key=key)
    elements = [(t, c) for t, c in tbs_elements(template) if t not in (0xA0, 0xA3)]
    v1_root = assemble(elements, key)
    assert v1_root.version == 1 and v1_root.key_usage is None and not v1_root.is_ca
    assert v1_root.subject_key_id is None
    leaf, leaf_key = make_leaf(v1_root, key)
    assert verify_chain(leaf, [], [v1_root], role="sign") == [leaf, v1_root]  # v1 anchor: trusted CA
    # ... but a v1 intermediate is not a CA
    v1_sub = assemble([(t, c) for t, c in tbs_elements(leaf) if t not in (0xA0, 0xA3)], key)
    assert v1_sub.version == 1
    below = issue(
        Name.build(CN="below"), SM2PrivateKey.generate().public_key(), issuer=v1_sub, issuer_key=leaf_key
    )
    with pytest.raises(CertificateError) as exc:
        verify_chain(below, [v1_sub], [v1_root])
    assert reason(exc) == "not_ca"


# ---------------------------------------------------------------- robustness


def test_garbage_is_malformed(pki):
    der = pki["sign"].der
    samples = [
        b"",
        b"\x30",
        b"\x30\x00",
        b"\x30\x80\x00\x00",
        der[:-1],
        der + b"\x00",
        der[:100],
        b"\x31" + der[1:],
        b"\x30\x81\x05" + der[3:],
        bytes(200),
        b"\x30" + b"\xff" * 10,
        b"\x30\x84\x00\x00\x00\x10" + bytes(16),
        b"x" * (70 * 1024),
    ]
    for sample in samples:
        with pytest.raises(CertificateError) as exc:
            Certificate.from_der(sample)
        assert reason(exc) == "malformed"
    with pytest.raises(CertificateError):
        Certificate.from_der("not bytes")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_certificates_never_crash(data, pki):
    der = bytearray(pki["sign"].der)
    mode = data.draw(st.sampled_from(["flip", "truncate", "random", "insert"]))
    if mode == "flip":
        for _ in range(data.draw(st.integers(1, 4))):
            der[data.draw(st.integers(0, len(der) - 1))] ^= data.draw(st.integers(1, 255))
    elif mode == "truncate":
        der = der[: data.draw(st.integers(0, len(der) - 1))]
    elif mode == "insert":
        at = data.draw(st.integers(0, len(der)))
        der[at:at] = data.draw(st.binary(min_size=1, max_size=8))
    else:
        der = bytearray(data.draw(st.binary(max_size=600)))
    try:
        cert = Certificate.from_der(bytes(der))
    except CertificateError as exc:
        assert exc.reason in ("malformed", "unsupported_algorithm")  # a flipped SPKI OID is the latter
        return
    with contextlib.suppress(CertificateError):  # any reason, but only this exception type
        verify_chain(cert, [], [pki["root"]], role="sign", hostname="localhost")


# ---------------------------------------------------------------- interop: their certificates

TONGSUO_PKI = INTEROP / "pki" / "tongsuo"
GMSSL_PKI = INTEROP / "pki" / "gmssl"


@pytest.mark.skipif(not (TONGSUO_PKI / "chain-ca.crt").is_file(), reason="n/a: no Tongsuo test PKI")
@pytest.mark.parametrize(
    "name,role",
    [("server_sign", "sign"), ("server_enc", "enc"), ("client_sign", "sign"), ("client_enc", "enc")],
)
def test_tongsuo_certificates(name, role):
    root, sub = load_pem_chain((TONGSUO_PKI / "chain-ca.crt").read_bytes())
    leaf = Certificate.from_pem((TONGSUO_PKI / f"{name}.crt").read_text())
    assert root.is_self_issued() and sub.is_ca and str(sub.subject).endswith("CN=sub ca")
    now = leaf.not_before + timedelta(days=1)
    assert verify_chain(leaf, [sub], [root], role=role, now=now) == [leaf, sub, root]
    assert verify_chain(leaf, [], [sub], role=role, now=now) == [leaf, sub]
    with pytest.raises(CertificateError) as exc:
        verify_chain(leaf, [sub], [root], role="enc" if role == "sign" else "sign", now=now)
    assert reason(exc) == "bad_key_usage"
    with pytest.raises(CertificateError) as exc:
        verify_chain(leaf, [], [root], role=role, now=now)
    assert reason(exc) == "unknown_ca"


@pytest.mark.skipif(not (GMSSL_PKI / "sm2_root_ca_cert.pem").is_file(), reason="n/a: no GmSSL test PKI")
@pytest.mark.parametrize(
    "name,role,host",
    [
        ("sm2_tlcp_server_sign_cert", "sign", "localhost"),
        ("sm2_tlcp_server_enc_cert", "enc", "localhost"),
        ("sm2_tls_client_cert", "sign", None),
    ],
)
def test_gmssl_certificates(name, role, host):
    root = Certificate.from_pem((GMSSL_PKI / "sm2_root_ca_cert.pem").read_text())
    sub = Certificate.from_pem((GMSSL_PKI / "sm2_tlcp_ca_cert.pem").read_text())
    leaf = Certificate.from_pem((GMSSL_PKI / f"{name}.pem").read_text())
    assert sub.path_len == 0 and root.is_ca
    now = leaf.not_before + timedelta(hours=1)
    assert verify_chain(leaf, [sub], [root], role=role, hostname=host, now=now) == [leaf, sub, root]
    with pytest.raises(CertificateError) as exc:
        verify_chain(leaf, [sub], [root], role="enc" if role == "sign" else "sign", now=now)
    assert reason(exc) == "bad_key_usage"
    if host:
        with pytest.raises(CertificateError) as exc:
            verify_chain(leaf, [sub], [root], hostname="www.example.com", now=now)
        assert reason(exc) == "name_mismatch"
    # the certs.pem bundles load in order
    if name == "sm2_tlcp_server_sign_cert":
        bundle = load_pem_chain((GMSSL_PKI / "sm2_tlcp_server_certs.pem").read_bytes())
        assert bundle[0] == leaf and bundle[-1] == sub


# ---------------------------------------------------------------- interop: our certificates


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60)


@pytest.fixture
def written(pki, tmp_path):
    for name in ("root", "sign", "enc"):
        (tmp_path / f"{name}.pem").write_text(pki[name].to_pem())
    (tmp_path / "chain.pem").write_text(pki["sign"].to_pem() + pki["enc"].to_pem() + pki["root"].to_pem())
    return tmp_path


@pytest.mark.skipif(TONGSUO is None, reason="n/a: no tongsuo command")
def test_tongsuo_verifies_our_certificates(written):
    d = written
    result = run(
        TONGSUO,
        "verify",
        "-CAfile",
        str(d / "root.pem"),
        "-purpose",
        "sslserver",
        "-verify_hostname",
        "localhost",
        str(d / "sign.pem"),
        str(d / "enc.pem"),
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert result.stdout.count(": OK") == 2
    text = run(TONGSUO, "x509", "-in", str(d / "sign.pem"), "-noout", "-text").stdout
    assert (
        "SM2-with-SM3" in text and "ASN1 OID: SM2" in text and "DNS:localhost, IP Address:127.0.0.1" in text
    )
    assert "Digital Signature, Non Repudiation" in text and "TLS Web Server Authentication" in text
    # and it refuses a tampered one, so the check above means something
    der = bytearray(Certificate.from_pem((d / "sign.pem").read_text()).der)
    der[-1] ^= 1
    (d / "bad.pem").write_text(Certificate.from_der(bytes(der)).to_pem())
    assert run(TONGSUO, "verify", "-CAfile", str(d / "root.pem"), str(d / "bad.pem")).returncode != 0


@pytest.mark.skipif(GMSSL is None, reason="n/a: no gmssl command")
def test_gmssl_verifies_our_certificates(written, pki):
    d = written
    result = run(
        GMSSL,
        "certverify",
        "-tlcp_server",
        "-in",
        str(d / "chain.pem"),
        "-cacert",
        str(d / "root.pem"),
        "-hostname",
        "localhost",
    )
    assert result.returncode == 0 and "Verification success" in result.stdout, result.stderr
    wrong_host = run(
        GMSSL,
        "certverify",
        "-tlcp_server",
        "-in",
        str(d / "chain.pem"),
        "-cacert",
        str(d / "root.pem"),
        "-hostname",
        "other.example",
    )
    assert wrong_host.returncode != 0
    client, _ = make_leaf(
        pki["root"], pki["root_key"], SIGN, cn="客户端", eku=("clientAuth",), dns_names=(), ip_addresses=()
    )
    (d / "client.pem").write_text(client.to_pem())
    result = run(GMSSL, "certverify", "-client", "-in", str(d / "client.pem"), "-cacert", str(d / "root.pem"))
    assert result.returncode == 0, result.stderr
