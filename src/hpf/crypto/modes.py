"""Block-cipher modes in plain Python over any 16-byte block function, and PKCS#7.

Used by the reference (gmssl) provider, whose SM4 offers only single blocks, ECB and CBC,
and never for speed. The GCM here follows NIST SP 800-38D with a 96-bit nonce and a 128-bit
tag, the form TLCP (GB/T 38636) and our field encryption use; it is cross-checked against
OpenSSL's SM4-GCM in the test suite.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from hpf.crypto.errors import InvalidCiphertext, InvalidInput, InvalidTag

BLOCK = 16
Block = Callable[[bytes], bytes]


def pkcs7_pad(data: bytes) -> bytes:
    n = BLOCK - len(data) % BLOCK
    return data + bytes([n]) * n


def pkcs7_unpad(data: bytes) -> bytes:
    if not data or len(data) % BLOCK:
        raise InvalidCiphertext(internal="padded length not a multiple of 16")
    n = data[-1]
    # Check every pad byte without an early exit, so the error does not time which one failed.
    bad = n == 0 or n > BLOCK
    for b in data[-n:] if not bad else b"":
        bad |= b != n
    if bad:
        raise InvalidCiphertext(internal="bad PKCS#7 padding")
    return data[:-n]


def require_blocks(data: bytes) -> None:
    if len(data) % BLOCK:
        raise InvalidInput("数据长度必须是16字节的整数倍", internal=f"length {len(data)}")


def xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


def ecb(block: Block, data: bytes) -> bytes:
    require_blocks(data)
    return b"".join(block(data[i:i + BLOCK]) for i in range(0, len(data), BLOCK))


def cbc_encrypt(block: Block, iv: bytes, data: bytes) -> bytes:
    require_blocks(data)
    out, prev = [], iv
    for i in range(0, len(data), BLOCK):
        prev = block(xor(data[i:i + BLOCK], prev))
        out.append(prev)
    return b"".join(out)


def cbc_decrypt(inverse: Block, iv: bytes, data: bytes) -> bytes:
    require_blocks(data)
    out, prev = [], iv
    for i in range(0, len(data), BLOCK):
        chunk = data[i:i + BLOCK]
        out.append(xor(inverse(chunk), prev))
        prev = chunk
    return b"".join(out)


def ctr(block: Block, counter_block: bytes, data: bytes, *, counter_bits: int = 128) -> bytes:
    """CTR with a big-endian counter in the low ``counter_bits`` of the block (128 for plain
    CTR, 32 for GCM's inc32)."""
    start = int.from_bytes(counter_block, "big")
    mask = (1 << counter_bits) - 1
    high = start & ~mask
    out = []
    for j, i in enumerate(range(0, len(data), BLOCK)):
        cb = (high | ((start + j) & mask)).to_bytes(BLOCK, "big")
        chunk = data[i:i + BLOCK]
        out.append(xor(chunk, block(cb)[:len(chunk)]))
    return b"".join(out)


_R = 0xE1 << 120


def _gf_mult(x: int, y: int) -> int:
    # Bitwise GF(2^128) multiplication in GCM's reflected bit order (SP 800-38D, 6.3).
    z, v = 0, y
    for i in range(127, -1, -1):
        if (x >> i) & 1:
            z ^= v
        v = (v >> 1) ^ _R if v & 1 else v >> 1
    return z


def _ghash(h: int, aad: bytes, ct: bytes) -> int:
    y = 0
    for data in (aad, ct):
        for i in range(0, len(data), BLOCK):
            chunk = data[i:i + BLOCK].ljust(BLOCK, b"\0")
            y = _gf_mult(y ^ int.from_bytes(chunk, "big"), h)
    lengths = ((len(aad) * 8) << 64) | (len(ct) * 8)
    return _gf_mult(y ^ lengths, h)


def _gcm_parts(block: Block, nonce: bytes) -> tuple[int, bytes]:
    if len(nonce) != 12:
        raise InvalidInput("GCM 随机数（nonce）必须为12字节", internal=f"nonce length {len(nonce)}")
    h = int.from_bytes(block(bytes(BLOCK)), "big")
    return h, nonce + b"\0\0\0\1"


def gcm_encrypt(block: Block, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    """Return ciphertext ‖ 16-byte tag."""
    h, j0 = _gcm_parts(block, nonce)
    ct = ctr(block, (int.from_bytes(j0, "big") + 1).to_bytes(BLOCK, "big"), data, counter_bits=32)
    tag = xor(block(j0), _ghash(h, aad, ct).to_bytes(BLOCK, "big"))
    return ct + tag


def gcm_decrypt(block: Block, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    if len(data) < BLOCK:
        raise InvalidCiphertext(internal="GCM input shorter than its tag")
    h, j0 = _gcm_parts(block, nonce)
    ct, tag = data[:-BLOCK], data[-BLOCK:]
    expected = xor(block(j0), _ghash(h, aad, ct).to_bytes(BLOCK, "big"))
    if not hmac.compare_digest(expected, tag):
        raise InvalidTag()
    return ctr(block, (int.from_bytes(j0, "big") + 1).to_bytes(BLOCK, "big"), ct, counter_bits=32)
