"""SM3, HMAC-SM3, the SM3 KDF, PBKDF2-HMAC-SM3, SM4 modes and the OS random source.

Each function takes an optional ``provider`` (tests and the self-test pass one explicitly
to cross-check providers); by default the process-wide provider does the work. Inputs are
checked here, once, so every provider rejects the same bad input with the same error.
"""

from __future__ import annotations

import secrets

from hpf.crypto import modes
from hpf.crypto.errors import InvalidCiphertext, InvalidInput, InvalidKey
from hpf.crypto.providers import Provider, active

SM4_KEY_SIZE = 16
SM4_BLOCK = 16
GCM_NONCE_SIZE = 12
GCM_TAG_SIZE = 16
SM3_DIGEST_SIZE = 32


def random_bytes(n: int) -> bytes:
    """Bytes from the operating system's CSPRNG (getrandom / /dev/urandom)."""
    if n < 0:
        raise InvalidInput(internal="negative length")
    return secrets.token_bytes(n)


def _p(provider: Provider | None) -> Provider:
    return provider or active()


def _bytes(value, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise InvalidInput(f"{what}必须是字节串", internal=f"{what}: {type(value).__name__}")
    return bytes(value)


def _sm4_key(key) -> bytes:
    key = _bytes(key, "SM4 密钥")
    if len(key) != SM4_KEY_SIZE:
        raise InvalidKey("SM4 密钥长度必须为16字节", internal=f"key length {len(key)}")
    return key


def _iv(iv) -> bytes:
    iv = _bytes(iv, "初始向量")
    if len(iv) != SM4_BLOCK:
        raise InvalidInput("SM4 初始向量（IV）必须为16字节", internal=f"iv length {len(iv)}")
    return iv


# ---------------------------------------------------------------- SM3

def sm3(data: bytes, *, provider: Provider | None = None) -> bytes:
    return _p(provider).sm3.hash(_bytes(data, "数据"))


def hmac_sm3(key: bytes, data: bytes, *, provider: Provider | None = None) -> bytes:
    key = _bytes(key, "HMAC 密钥")
    if not key:
        raise InvalidKey("HMAC-SM3 密钥不能为空")
    return _p(provider).sm3.hmac(key, _bytes(data, "数据"))


def sm3_kdf(z: bytes, length: int, *, provider: Provider | None = None) -> bytes:
    """The key derivation function of GB/T 32918.4 (5.4.3): SM3(Z ‖ ct) for ct = 1, 2, …"""
    if length < 0 or length > 1 << 20:
        raise InvalidInput("KDF 输出长度超出范围", internal=f"length {length}")
    h = _p(provider).sm3.hash
    z = _bytes(z, "KDF 输入")
    out = b"".join(h(z + ct.to_bytes(4, "big")) for ct in range(1, -(-length // 32) + 1))
    return out[:length]


def pbkdf2_hmac_sm3(password: bytes, salt: bytes, iterations: int, length: int = 32, *,
                    provider: Provider | None = None) -> bytes:
    if iterations < 1 or length < 1:
        raise InvalidInput("PBKDF2 迭代次数和输出长度必须为正数")
    if len(salt) < 8:
        raise InvalidInput("PBKDF2 盐值至少8字节", internal=f"salt length {len(salt)}")
    return _p(provider).sm3.pbkdf2(_bytes(password, "口令"), _bytes(salt, "盐值"), iterations, length)


# ---------------------------------------------------------------- SM4

def sm4_ecb_encrypt(key: bytes, data: bytes, *, padding: bool = False,
                    provider: Provider | None = None) -> bytes:
    """ECB: only for single blocks and key wrapping tests; never for data."""
    data = _bytes(data, "明文")
    return _p(provider).sm4.ecb_encrypt(_sm4_key(key), modes.pkcs7_pad(data) if padding else data)


def sm4_ecb_decrypt(key: bytes, data: bytes, *, padding: bool = False,
                    provider: Provider | None = None) -> bytes:
    out = _p(provider).sm4.ecb_decrypt(_sm4_key(key), _blocks(data))
    return modes.pkcs7_unpad(out) if padding else out


def sm4_cbc_encrypt(key: bytes, iv: bytes, data: bytes, *, padding: bool = True,
                    provider: Provider | None = None) -> bytes:
    """CBC with PKCS#7 padding by default (``padding=False`` for TLCP's own record padding)."""
    data = _bytes(data, "明文")
    return _p(provider).sm4.cbc_encrypt(_sm4_key(key), _iv(iv), modes.pkcs7_pad(data) if padding else data)


def sm4_cbc_decrypt(key: bytes, iv: bytes, data: bytes, *, padding: bool = True,
                    provider: Provider | None = None) -> bytes:
    out = _p(provider).sm4.cbc_decrypt(_sm4_key(key), _iv(iv), _blocks(data))
    return modes.pkcs7_unpad(out) if padding else out


def sm4_ctr(key: bytes, counter_block: bytes, data: bytes, *, provider: Provider | None = None) -> bytes:
    """CTR mode (encryption and decryption are the same operation); 128-bit big-endian counter."""
    return _p(provider).sm4.ctr(_sm4_key(key), _iv(counter_block), _bytes(data, "数据"))


def sm4_gcm_encrypt(key: bytes, nonce: bytes, data: bytes, aad: bytes = b"", *,
                    provider: Provider | None = None) -> bytes:
    """Return ciphertext ‖ 16-byte tag. ``nonce`` is 12 bytes and must never repeat under a key."""
    return _p(provider).sm4.gcm_encrypt(_sm4_key(key), _nonce(nonce), _bytes(data, "明文"),
                                        _bytes(aad, "附加数据"))


def sm4_gcm_decrypt(key: bytes, nonce: bytes, data: bytes, aad: bytes = b"", *,
                    provider: Provider | None = None) -> bytes:
    """Raise ``InvalidTag`` when the ciphertext, nonce, aad or key is not the one sealed."""
    return _p(provider).sm4.gcm_decrypt(_sm4_key(key), _nonce(nonce), _bytes(data, "密文"),
                                        _bytes(aad, "附加数据"))


def _nonce(nonce) -> bytes:
    nonce = _bytes(nonce, "随机数")
    if len(nonce) != GCM_NONCE_SIZE:
        raise InvalidInput("GCM 随机数（nonce）必须为12字节", internal=f"nonce length {len(nonce)}")
    return nonce


def _blocks(data) -> bytes:
    data = _bytes(data, "密文")
    if not data or len(data) % SM4_BLOCK:
        raise InvalidCiphertext("密文长度必须是16字节的非零整数倍", internal=f"length {len(data)}")
    return data
