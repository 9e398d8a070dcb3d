"""Every provider reproduces the published vectors, rejects bad input the same way, and
accepts what the others produce (signatures, ciphertexts, MACs)."""

from __future__ import annotations

import itertools

import pytest

from hpf import crypto
from hpf.crypto import providers, selftest, sm2
from hpf.crypto.errors import (
    CryptoError,
    InvalidCiphertext,
    InvalidInput,
    InvalidKey,
    InvalidPublicKey,
    InvalidSignature,
    InvalidTag,
)

NAMES = ("native", "portable", "reference")
PROVIDERS = {name: providers.build_provider(name) for name in NAMES}
KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")
D = selftest.SM2_D
PUB = sm2.SM2PublicKey.from_hex(selftest.SM2_P)


@pytest.fixture(params=NAMES)
def p(request):
    return PROVIDERS[request.param]


def test_every_known_answer_test_passes(p):
    results = selftest.run(p)
    assert [r.name for r in results if not r.passed] == []
    assert len(results) == 15


def test_native_provider_uses_native_engines_here():
    engines = {a: e.name for a, e in PROVIDERS["native"].engines().items()}
    assert engines == {"sm3": "openssl-sm3", "sm4": "openssl-sm4", "sm2": "openssl-sm2"}
    reference = {e.name for e in PROVIDERS["reference"].engines().values()}
    assert reference == {"gmssl-sm3", "gmssl-sm4", "gmssl-sm2"}
    assert {a: e.name for a, e in PROVIDERS["portable"].engines().items()} == {
        "sm3": "openssl-sm3", "sm4": "gmssl-sm4", "sm2": "hpf-sm2"}


def test_sm4_million_rounds_native():
    [result] = [r for r in selftest.run(PROVIDERS["native"], full=True) if r.name == "sm4-ecb-1000000"]
    assert result.passed


def test_sm4_million_rounds_gmssl(slow_sm4_kat):
    """The reference engine (portable and reference providers) in a background process
    started with the session, since pure Python needs about two minutes for it."""
    assert slow_sm4_kat() == "595298c7c6fd271f0402f804c33d3f66"


def test_sm3_streams_and_lengths_agree_across_providers():
    for n in (0, 1, 55, 56, 63, 64, 65, 119, 1000):
        data = bytes(range(256)) * 4
        digests = {crypto.sm3(data[:n], provider=q) for q in PROVIDERS.values()}
        assert len(digests) == 1
        macs = {crypto.hmac_sm3(b"k" * (n % 100 + 1), data[:n], provider=q) for q in PROVIDERS.values()}
        assert len(macs) == 1


def test_pbkdf2_and_kdf_agree_across_providers():
    outs = {crypto.pbkdf2_hmac_sm3(b"pw", b"saltsalt", 50, 40, provider=q) for q in PROVIDERS.values()}
    assert len(outs) == 1 and len(outs.pop()) == 40
    kdfs = {crypto.sm3_kdf(b"z" * 64, 100, provider=q) for q in PROVIDERS.values()}
    assert len(kdfs) == 1


@pytest.mark.parametrize("length", [0, 1, 15, 16, 17, 33, 100])
def test_sm4_modes_agree_across_providers(length):
    data, iv, nonce = bytes(range(length)), bytes(range(16)), bytes(range(12))
    for op in (
        lambda q: crypto.sm4_cbc_encrypt(KEY, iv, data, provider=q),
        lambda q: crypto.sm4_ctr(KEY, iv, data, provider=q),
        lambda q: crypto.sm4_gcm_encrypt(KEY, nonce, data, b"aad", provider=q),
        lambda q: crypto.sm4_ecb_encrypt(KEY, data, padding=True, provider=q),
    ):
        assert len({op(q) for q in PROVIDERS.values()}) == 1


def test_sm4_round_trips(p):
    data, iv, nonce = b"provident fund" * 3, bytes(16), bytes(12)
    cbc = crypto.sm4_cbc_encrypt(KEY, iv, data, provider=p)
    assert crypto.sm4_cbc_decrypt(KEY, iv, cbc, provider=p) == data
    assert crypto.sm4_ctr(KEY, iv, crypto.sm4_ctr(KEY, iv, data, provider=p), provider=p) == data
    sealed = crypto.sm4_gcm_encrypt(KEY, nonce, data, b"ctx", provider=p)
    assert len(sealed) == len(data) + 16
    assert crypto.sm4_gcm_decrypt(KEY, nonce, sealed, b"ctx", provider=p) == data
    block = crypto.sm4_ecb_encrypt(KEY, data[:32], provider=p)
    assert crypto.sm4_ecb_decrypt(KEY, block, provider=p) == data[:32]


def test_sm4_bad_input(p):
    iv, nonce = bytes(16), bytes(12)
    sealed = crypto.sm4_gcm_encrypt(KEY, nonce, b"secret data", b"a", provider=p)
    with pytest.raises(InvalidKey):
        crypto.sm4_gcm_encrypt(KEY[:15], nonce, b"x", provider=p)
    with pytest.raises(InvalidKey):
        crypto.sm4_cbc_encrypt(KEY + b"x", iv, b"x", provider=p)
    with pytest.raises(InvalidInput):
        crypto.sm4_cbc_encrypt(KEY, iv[:8], b"x", provider=p)
    with pytest.raises(InvalidInput):
        crypto.sm4_gcm_encrypt(KEY, nonce[:8], b"x", provider=p)
    for tampered in (sealed[:-1] + bytes([sealed[-1] ^ 1]), bytes([sealed[0] ^ 1]) + sealed[1:]):
        with pytest.raises(InvalidTag):
            crypto.sm4_gcm_decrypt(KEY, nonce, tampered, b"a", provider=p)
    with pytest.raises(InvalidTag):  # right ciphertext, wrong associated data
        crypto.sm4_gcm_decrypt(KEY, nonce, sealed, b"b", provider=p)
    with pytest.raises(InvalidCiphertext):  # truncated below the tag
        crypto.sm4_gcm_decrypt(KEY, nonce, sealed[:10], b"a", provider=p)
    ct = crypto.sm4_cbc_encrypt(KEY, iv, b"0123456789", provider=p)
    with pytest.raises(InvalidCiphertext):
        crypto.sm4_cbc_decrypt(KEY, iv, ct[:-1], provider=p)
    with pytest.raises(InvalidCiphertext):
        crypto.sm4_cbc_decrypt(KEY, iv, b"", provider=p)
    with pytest.raises(InvalidCiphertext):  # wrong key: the padding does not check out
        crypto.sm4_cbc_decrypt(bytes(16), iv, ct, provider=p)
    with pytest.raises(InvalidInput):
        crypto.sm4_ecb_encrypt(KEY, b"not a block", provider=p)
    with pytest.raises(InvalidInput):
        crypto.sm4_gcm_encrypt(KEY, nonce, "text, not bytes", provider=p)


def test_cross_verification_of_signatures_and_ciphertexts():
    key = crypto.SM2PrivateKey.generate()
    pub = key.public_key()
    for signer, verifier in itertools.product(PROVIDERS.values(), repeat=2):
        for encoding in ("der", "raw"):
            sig = key.sign(b"remittance 2026-11", uid=b"HPF-CENTRE", encoding=encoding, provider=signer)
            assert pub.verify(sig, b"remittance 2026-11", uid=b"HPF-CENTRE", encoding=encoding,
                              provider=verifier)
            assert not pub.verify(sig, b"remittance 2026-12", uid=b"HPF-CENTRE", encoding=encoding,
                                  provider=verifier)
            # the same message under another user ID (the default) is another message
            assert not pub.verify(sig, b"remittance 2026-11", encoding=encoding, provider=verifier)
    for sealer, opener in itertools.product(PROVIDERS.values(), repeat=2):
        for form in sm2.CIPHERTEXT_FORMS:
            ct = pub.encrypt(b"DEK 0123456789abcdef", form=form, provider=sealer)
            assert key.decrypt(ct, form=form, provider=opener) == b"DEK 0123456789abcdef"


def test_gmssl_itself_accepts_our_signatures_and_ciphertexts():
    """Interoperability with an independent library, not only with our own engines."""
    from gmssl import sm2 as gm

    key = crypto.SM2PrivateKey.generate()
    pub_hex = key.public_key().to_bytes()[1:].hex()
    ctx = gm.CryptSM2(private_key=key.to_bytes().hex(), public_key=pub_hex, mode=1)
    sig = key.sign(b"message", encoding="raw")
    assert ctx.verify_with_sm3(sig.hex(), b"message")
    theirs = ctx.sign_with_sm3(b"message", crypto.random_bytes(32).hex())
    assert key.public_key().verify(bytes.fromhex(theirs), b"message", encoding="raw")
    ours = key.public_key().encrypt(b"hello gmssl", form="c1c3c2")
    assert ctx.decrypt(ours[1:]) == b"hello gmssl"  # gmssl's C1 has no 04 prefix
    assert key.decrypt(b"\x04" + ctx.encrypt(b"hello hpf"), form="c1c3c2") == b"hello hpf"


def test_signature_and_ciphertext_encodings():
    r, s = int(selftest.SM2_R, 16), int(selftest.SM2_S, 16)
    der = crypto.encode_signature(r, s, "der")
    raw = crypto.encode_signature(r, s, "raw")
    assert len(raw) == 64 and der[0] == 0x30
    assert crypto.convert_signature(der, "der", "raw") == raw
    assert crypto.convert_signature(raw, "raw", "der") == der
    assert PUB.verify(raw, b"message digest", encoding="raw")
    ct = bytes.fromhex(selftest.SM2_C1 + selftest.SM2_C3 + selftest.SM2_C2)
    c1, c3, c2 = crypto.decode_ciphertext(ct, "c1c3c2")
    for form in sm2.CIPHERTEXT_FORMS:
        encoded = crypto.encode_ciphertext(c1, c3, c2, form)
        assert crypto.decode_ciphertext(encoded, form) == (c1, c3, c2)
        assert sm2.SM2PrivateKey(D).decrypt(encoded, form=form) == b"encryption standard"


def test_public_key_forms():
    full = PUB.to_bytes()
    assert len(full) == 65 and full[0] == 4
    assert crypto.SM2PublicKey.from_bytes(full[1:]) == PUB
    compressed = PUB.to_bytes(compressed=True)
    assert len(compressed) == 33 and crypto.SM2PublicKey.from_bytes(compressed) == PUB
    assert crypto.SM2PrivateKey(D).public_key() == PUB


@pytest.mark.parametrize("bad", [
    b"", b"\x04" + bytes(64), b"\x04" + bytes(63), bytes(65),
    b"\x04" + (1).to_bytes(32, "big") + (2).to_bytes(32, "big"),  # not on the curve
    b"\x02" + b"\xff" * 32,  # x >= p
    b"\x05" + bytes(32),
])
def test_bad_public_keys(bad):
    with pytest.raises(InvalidPublicKey):
        crypto.SM2PublicKey.from_bytes(bad)


@pytest.mark.parametrize("sig", [
    b"", bytes(63), bytes(65),
    b"\x30\x06\x02\x01\x01\x02\x01",  # truncated
    b"\x30\x06\x02\x01\x01\x02\x01\x01\x00",  # trailing byte
    b"\x30\x07\x02\x02\x00\x01\x02\x01\x01",  # non-minimal integer
    b"\x30\x06\x02\x01\x81\x02\x01\x01",  # negative integer
    b"\x31\x06\x02\x01\x01\x02\x01\x01",  # SET, not SEQUENCE
    b"\x30\x81\x06\x02\x01\x01\x02\x01\x01",  # non-minimal length
])
def test_malformed_signatures_raise(sig):
    encoding = "raw" if sig[:1] != b"\x30" and sig[:1] != b"\x31" else "der"
    with pytest.raises(InvalidSignature):
        PUB.verify(sig, b"message digest", encoding=encoding)


def test_wellformed_but_wrong_signatures_are_false(p):
    for r, s in ((0, 1), (1, 0), (sm2.N, 1), (1, sm2.N), (5, sm2.N - 5)):
        sig = crypto.encode_signature(r, s, "der")
        assert PUB.verify(sig, b"message digest", provider=p) is False


def test_bad_ciphertexts(p):
    key = sm2.SM2PrivateKey(D)
    good = bytes.fromhex(selftest.SM2_C1 + selftest.SM2_C3 + selftest.SM2_C2)
    cases = [good[:96], good[:-1], bytes([good[0], good[1] ^ 1]) + good[2:],  # C1 off the curve
             good[:70] + bytes([good[70] ^ 1]) + good[71:],  # C3 altered
             good[:-1] + bytes([good[-1] ^ 1]),  # C2 altered
             b"\x05" + good[1:]]
    for bad in cases:
        with pytest.raises(InvalidCiphertext):
            key.decrypt(bad, provider=p)
    asn1 = crypto.encode_ciphertext(*crypto.decode_ciphertext(good), "asn1")
    for bad in (asn1[:-1], asn1 + b"\x00", b"\x30\x00"):
        with pytest.raises(InvalidCiphertext):
            key.decrypt(bad, form="asn1", provider=p)
    with pytest.raises(InvalidInput):
        key.decrypt(good, form="c2c1c3", provider=p)


def test_bad_private_keys_and_inputs():
    for bad in (b"", bytes(31), bytes(32), (sm2.N - 1).to_bytes(32, "big"), b"\xff" * 32):
        with pytest.raises(InvalidKey):
            crypto.SM2PrivateKey.from_bytes(bad)
    with pytest.raises(InvalidInput):
        PUB.encrypt(b"")
    with pytest.raises(InvalidInput):
        sm2.SM2PrivateKey(D).sign(b"m", encoding="base64")
    with pytest.raises(InvalidKey):
        crypto.hmac_sm3(b"", b"data")


def test_errors_never_carry_key_or_data_bytes():
    secret = bytes.fromhex("00112233445566778899aabbccddeeff")
    messages = []
    for call in (lambda: crypto.sm4_gcm_decrypt(secret, bytes(12), b"\x01" * 40, b""),
                 lambda: crypto.sm4_gcm_encrypt(secret[:15], bytes(12), b"x"),
                 lambda: crypto.SM2PrivateKey.from_bytes(secret),
                 lambda: crypto.SM2PublicKey.from_bytes(secret)):
        with pytest.raises(CryptoError) as info:
            call()
        messages.append(f"{info.value.message} {info.value.internal or ''} {info.value!r}")
    text = " ".join(messages).lower()
    assert secret.hex() not in text and "00112233" not in text


def test_private_key_repr_hides_the_scalar():
    key = sm2.SM2PrivateKey(D)
    assert f"{D:064x}" not in repr(key).lower()


def test_unknown_provider_is_a_clear_error():
    with pytest.raises(crypto.ProviderUnavailable, match="未知的密码服务提供者"):
        providers.build_provider("fast")


def test_auto_falls_back_per_algorithm(monkeypatch):
    def unavailable(self):
        raise crypto.ProviderUnavailable("cryptography/OpenSSL 不提供 SM4")

    monkeypatch.setattr(providers.CryptographySm4, "__init__", unavailable)
    auto = providers.build_provider("auto")
    assert auto.sm4.name == "gmssl-sm4" and "sm4" in auto.fallbacks
    assert auto.sm3.name == "openssl-sm3"
    assert selftest.run(auto) and all(r.passed for r in selftest.run(auto))
    with pytest.raises(crypto.ProviderUnavailable, match="native"):
        providers.build_provider("native")


def test_sm2_falls_back_to_hpf_arithmetic_without_libcrypto(monkeypatch):
    from hpf.crypto import _libcrypto

    monkeypatch.setattr(_libcrypto, "_find_libcrypto", lambda: None)
    auto = providers.build_provider("auto")
    assert auto.sm2.name == "hpf-sm2" and "sm2" in auto.fallbacks
    assert all(r.passed for r in selftest.run(auto))


def test_simulated_selftest_failure_is_refused(monkeypatch):
    monkeypatch.setenv(selftest.SIMULATE_ENV, "sm2-sign")
    with pytest.raises(crypto.SelfTestFailed, match="sm2-sign"):
        selftest.require(PROVIDERS["native"])
    monkeypatch.delenv(selftest.SIMULATE_ENV)
    assert selftest.require(PROVIDERS["native"])


def test_random_bytes_are_fresh():
    assert len(crypto.random_bytes(32)) == 32 and crypto.random_bytes(16) != crypto.random_bytes(16)
