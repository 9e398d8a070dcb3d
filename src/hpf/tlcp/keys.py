"""TLCP key schedule: the TLS 1.2-style PRF over HMAC-SM3, master secret, key block, Finished.

Pure functions (no sockets) so each step has a known-answer test
(tests/unit/test_tlcp_kat.py) and a divergence from GmSSL or Tongsuo shows up there.
"""

from __future__ import annotations

from dataclasses import dataclass

from hpf.crypto.providers import Provider, active
from hpf.tlcp.constants import MASTER_SECRET_SIZE, VERIFY_DATA_SIZE, CipherSuite


def p_sm3(secret: bytes, seed: bytes, length: int, *, provider: Provider | None = None) -> bytes:
    """P_hash (RFC 5246 §5) with HMAC-SM3."""
    hmac = (provider or active()).sm3.hmac
    out = bytearray()
    a = seed
    while len(out) < length:
        a = hmac(secret, a)
        out += hmac(secret, a + seed)
    return bytes(out[:length])


def prf(secret: bytes, label: bytes, seed: bytes, length: int, *, provider: Provider | None = None) -> bytes:
    return p_sm3(secret, label + seed, length, provider=provider)


def master_secret(
    pre_master: bytes, client_random: bytes, server_random: bytes, *, provider: Provider | None = None
) -> bytes:
    return prf(
        pre_master, b"master secret", client_random + server_random, MASTER_SECRET_SIZE, provider=provider
    )


@dataclass(frozen=True)
class KeyBlock:
    client_mac: bytes
    server_mac: bytes
    client_key: bytes
    server_key: bytes
    client_iv: bytes
    server_iv: bytes


def key_block(
    master: bytes,
    client_random: bytes,
    server_random: bytes,
    suite: CipherSuite,
    *,
    provider: Provider | None = None,
) -> KeyBlock:
    """CBC: cMAC 32 ‖ sMAC 32 ‖ cKey 16 ‖ sKey 16 ‖ cIV 16 ‖ sIV 16 (128 bytes);
    GCM: cKey 16 ‖ sKey 16 ‖ cIV 4 ‖ sIV 4 (40 bytes). Note the seed order: server random first."""
    block = prf(
        master, b"key expansion", server_random + client_random, suite.key_block_size, provider=provider
    )
    sizes = (suite.mac_key_size,) * 2 + (suite.key_size,) * 2 + (suite.iv_size,) * 2
    parts, pos = [], 0
    for size in sizes:
        parts.append(block[pos : pos + size])
        pos += size
    return KeyBlock(*parts)


def verify_data(
    master: bytes, label: bytes, transcript_hash: bytes, *, provider: Provider | None = None
) -> bytes:
    """Finished.verify_data = PRF(master, "client finished"|"server finished", SM3(handshake))[0:12]."""
    return prf(master, label, transcript_hash, VERIFY_DATA_SIZE, provider=provider)


def server_key_exchange_tbs(client_random: bytes, server_random: bytes, enc_cert_der: bytes) -> bytes:
    """What the server signs for the ECC suites: randoms ‖ uint24 length ‖ DER encryption certificate."""
    return client_random + server_random + len(enc_cert_der).to_bytes(3, "big") + enc_cert_der
