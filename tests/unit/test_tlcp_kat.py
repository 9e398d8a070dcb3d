"""TLCP known answers: each step of the key schedule and record protection, pinned.

The expected values were computed with Tongsuo 8.5 (an independent implementation built from
source, see docs/tlcp.md) — ``openssl kdf ... -kdfopt digest:SM3 TLS1-PRF`` for the PRF, key
block and Finished; ``openssl mac HMAC`` + ``openssl enc -sm4-cbc -nopad`` for the CBC record;
pyca/cryptography's SM4-GCM for the GCM record — so a divergence from other implementations
fails here, not only as a failed handshake.
"""

from __future__ import annotations

import pytest

from hpf import crypto
from hpf.crypto.sm2 import SM2PrivateKey
from hpf.tlcp import ECC_SM4_CBC_SM3, ECC_SM4_GCM_SM3, ECDHE_SM4_GCM_SM3, keys, suite_by_name
from hpf.tlcp import messages as m
from hpf.tlcp.constants import AlertDescription
from hpf.tlcp.errors import TLCPError
from hpf.tlcp.record import CbcProtection, GcmProtection, header

PMS = bytes.fromhex("0101") + bytes(range(2, 48))
CR = bytes(range(0x20, 0x40))
SR = bytes(range(0x40, 0x60))
MS = bytes.fromhex(
    "2bb06f6e75f6d4130c48c817165168c7776825cee714b74382070e0ec8819697424051db255d80c7f38a24bc4297054d"
)
KB128 = bytes.fromhex(
    "46ce82eab2f1804e325f6e6f66018b88b4a93e42c790c372ab6d0383a7a506a94c30140a6548d1082aab147577a4855f"
    "601b694a97ac23c4080adac073d3bf595d9fe6ca757f29dd475bbf8c59dde5a5039c4b444cb0f3d2481618b0175698aa"
    "b2188fed5f1ff9eb4d88b9582a5f4ff3c30e0da3c1eaf51d554992f35dd0817e"
)
REQUEST = b"GET / HTTP/1.1\r\n\r\n"


def test_master_secret():
    assert keys.master_secret(PMS, CR, SR) == MS


def test_cbc_key_block_is_128_bytes_in_the_standard_order():
    kb = keys.key_block(MS, CR, SR, ECC_SM4_CBC_SM3)
    assert ECC_SM4_CBC_SM3.key_block_size == 128
    assert (
        kb.client_mac + kb.server_mac + kb.client_key + kb.server_key + kb.client_iv + kb.server_iv == KB128
    )
    assert (len(kb.client_mac), len(kb.client_key), len(kb.client_iv)) == (32, 16, 16)


def test_gcm_key_block_is_40_bytes_keys_then_4_byte_implicit_ivs():
    kb = keys.key_block(MS, CR, SR, ECC_SM4_GCM_SM3)
    assert ECC_SM4_GCM_SM3.key_block_size == 40
    assert kb.client_mac == kb.server_mac == b""
    assert kb.client_key == KB128[:16] and kb.server_key == KB128[16:32]
    assert kb.client_iv == bytes.fromhex("4c30140a") and kb.server_iv == bytes.fromhex("6548d108")


def test_prf_is_a_prefix_stream():
    # GmSSL derives 96 bytes for CBC (no IVs), gotlcp 128: both are prefixes of the same stream.
    assert keys.prf(MS, b"key expansion", SR + CR, 96) == KB128[:96]


def test_finished_verify_data():
    transcript_hash = crypto.sm3(b"handshake messages")
    assert transcript_hash.hex() == "83f62b4838653ba166512ba7cddb191bff74b1feeb81db89c64f8acf878e7ed1"
    assert keys.verify_data(MS, b"client finished", transcript_hash).hex() == "d167414735659caa9b6478c3"
    assert keys.verify_data(MS, b"server finished", transcript_hash).hex() == "203e9bebcc7ed3350a97b2c5"


def test_cbc_record_is_mac_then_encrypt_with_an_explicit_iv():
    kb = keys.key_block(MS, CR, SR, ECC_SM4_CBC_SM3)
    iv = bytes(range(16))
    sealed = CbcProtection(kb.client_mac, kb.client_key).seal(23, REQUEST, _iv=iv)
    # IV ‖ SM4-CBC(pt ‖ HMAC-SM3(seq ‖ 17 0101 0012 ‖ pt) ‖ 14 × 0x0d)
    assert sealed.hex() == (
        "000102030405060708090a0b0c0d0e0f"
        "b9bc20a8a817deaff44e4777bbf6c2d60a0b9b2d2d2fc44b7433fa4cc14263aa"
        "5445e031c689d056c2062719d0e6255754ac96f2c0fa1bd31e7b783d89df51e3"
    )
    reader = CbcProtection(kb.client_mac, kb.client_key)
    assert reader.open(23, sealed) == REQUEST


def test_cbc_mac_covers_sequence_type_and_version():
    kb = keys.key_block(MS, CR, SR, ECC_SM4_CBC_SM3)
    sealed = CbcProtection(kb.client_mac, kb.client_key).seal(23, REQUEST)
    with pytest.raises(TLCPError) as wrong_type:
        CbcProtection(kb.client_mac, kb.client_key).open(22, sealed)
    assert wrong_type.value.alert == AlertDescription.BAD_RECORD_MAC
    reader = CbcProtection(kb.client_mac, kb.client_key)
    reader.seq = 1
    with pytest.raises(TLCPError):
        reader.open(23, sealed)
    tampered = bytearray(sealed)
    tampered[-1] ^= 1
    with pytest.raises(TLCPError) as bad:
        CbcProtection(kb.client_mac, kb.client_key).open(23, bytes(tampered))
    assert bad.value.alert == AlertDescription.BAD_RECORD_MAC


def test_gcm_record_nonce_is_implicit_iv_and_sequence_aad_is_seq_type_version_length():
    kb = keys.key_block(MS, CR, SR, ECC_SM4_GCM_SM3)
    writer = GcmProtection(kb.client_key, kb.client_iv)
    first, second = writer.seal(23, REQUEST), writer.seal(23, REQUEST)
    assert (
        first.hex() == "00000000000000005d6608570b3b68e1e4922556fd2b94e9f7a773bb8081b4618d3ffd77545df33f49c0"
    )
    assert (
        second.hex() == "0000000000000001105c70b708825fb7b2e4fbf9b696a7fc20d56d4f1f90149dcd47a2cfc37aeadf9064"
    )
    assert GcmProtection.aad(1, 23, 18) == bytes.fromhex("00000000000000011701010012")
    reader = GcmProtection(kb.client_key, kb.client_iv)
    assert reader.open(23, first) == REQUEST and reader.open(23, second) == REQUEST
    with pytest.raises(TLCPError) as replay:
        reader.open(23, first)  # sequence 2 in the AAD: a replayed record does not verify
    assert replay.value.alert == AlertDescription.BAD_RECORD_MAC


def test_record_header_carries_tlcp_version():
    assert header(22, 300) == bytes.fromhex("160101012c")


def test_server_key_exchange_signed_data_uses_a_3_byte_length_of_the_encryption_certificate():
    enc_der = bytes(range(256)) * 2 + b"\x30"  # 513 bytes: the length needs the third byte's low bits
    tbs = keys.server_key_exchange_tbs(CR, SR, enc_der)
    assert tbs[:64] == CR + SR and tbs[64:67] == bytes.fromhex("000201") and tbs[67:] == enc_der
    key = SM2PrivateKey.generate()
    signature = key.sign(tbs)  # SM2 with the default ID, DER
    reference = crypto.build_provider("reference")
    assert key.public_key().verify(signature, tbs, provider=reference)
    assert signature[0] == 0x30


def test_ecdhe_parameters_are_named_curve_sm2():
    point = SM2PrivateKey.generate().public_key().to_bytes()
    params = m.EcdheParams(point).encode()
    assert params[:4] == bytes.fromhex("03002941") and len(params) == 69


def test_certificate_verify_and_finished_message_shapes():
    assert m.encode_finished(b"\x01" * 12) == bytes.fromhex("1400000c") + b"\x01" * 12
    with pytest.raises(TLCPError) as short:
        m.decode_finished(b"\x01" * 11)
    assert short.value.alert == AlertDescription.DECODE_ERROR


def test_client_key_exchange_is_a_der_sm2_cipher_of_a_0101_pre_master_secret():
    key = SM2PrivateKey.generate()
    sealed = key.public_key().encrypt(PMS, form="asn1")
    body = m.encode_client_key_exchange(sealed, ecdhe=False)[4:]
    assert body[:2] == len(sealed).to_bytes(2, "big") and body[2] == 0x30
    _x, _y, c3, c2 = crypto.asn1.decode_sequence(sealed, 0x02, 0x02, 0x04, 0x04)
    assert len(c3) == 32 and len(c2) == 48
    assert key.decrypt(m.decode_client_key_exchange(body, ecdhe=False), form="asn1") == PMS


def test_suite_names_match_the_other_implementations():
    assert suite_by_name("ECC-SM2-SM4-CBC-SM3").code == 0xE013  # Tongsuo
    assert suite_by_name("TLS_ECC_SM4_GCM_SM3").code == 0xE053  # GmSSL
    assert suite_by_name("ecdhe_sm4_gcm_sm3") is ECDHE_SM4_GCM_SM3
    assert suite_by_name("0xE011").code == 0xE011
    with pytest.raises(ValueError):
        suite_by_name("TLS_AES_128_GCM_SHA256")
