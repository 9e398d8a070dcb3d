"""National cryptography for HPF Core: SM2, SM3, SM4 behind one small API.

    from hpf import crypto
    crypto.sm3(b"abc")
    crypto.sm4_gcm_encrypt(key, nonce, data, aad)
    key = crypto.SM2PrivateKey.generate(); sig = key.sign(b"msg")
    key.public_key().verify(sig, b"msg")
    pem = key.to_pem(); crypto.SM2PublicKey.from_pem(partner_pem)  # PKCS#8 / SPKI / SEC1

Which code does the work is the provider's business (``hpf.crypto.providers``); callers
never choose an implementation, only (in tests) a provider to cross-check against.
"""

from hpf.crypto.core import (
    GCM_NONCE_SIZE,
    GCM_TAG_SIZE,
    SM3_DIGEST_SIZE,
    SM4_KEY_SIZE,
    hmac_sm3,
    pbkdf2_hmac_sm3,
    random_bytes,
    sm3,
    sm3_kdf,
    sm4_cbc_decrypt,
    sm4_cbc_encrypt,
    sm4_ctr,
    sm4_ecb_decrypt,
    sm4_ecb_encrypt,
    sm4_gcm_decrypt,
    sm4_gcm_encrypt,
)
from hpf.crypto.errors import (
    CryptoError,
    InvalidCiphertext,
    InvalidInput,
    InvalidKey,
    InvalidPublicKey,
    InvalidSignature,
    InvalidTag,
    KeyManagementError,
    ProviderUnavailable,
    SelfTestFailed,
    UnknownKeyId,
)
from hpf.crypto.providers import Provider, activate, active, build_provider
from hpf.crypto.sm2 import (
    DEFAULT_ID,
    SM2PrivateKey,
    SM2PublicKey,
    convert_signature,
    decode_ciphertext,
    decode_signature,
    encode_ciphertext,
    encode_signature,
)

__all__ = [
    "DEFAULT_ID",
    "GCM_NONCE_SIZE",
    "GCM_TAG_SIZE",
    "SM3_DIGEST_SIZE",
    "SM4_KEY_SIZE",
    "CryptoError",
    "InvalidCiphertext",
    "InvalidInput",
    "InvalidKey",
    "InvalidPublicKey",
    "InvalidSignature",
    "InvalidTag",
    "KeyManagementError",
    "Provider",
    "ProviderUnavailable",
    "SM2PrivateKey",
    "SM2PublicKey",
    "SelfTestFailed",
    "UnknownKeyId",
    "activate",
    "active",
    "build_provider",
    "convert_signature",
    "decode_ciphertext",
    "decode_signature",
    "encode_ciphertext",
    "encode_signature",
    "hmac_sm3",
    "pbkdf2_hmac_sm3",
    "random_bytes",
    "sm3",
    "sm3_kdf",
    "sm4_cbc_decrypt",
    "sm4_cbc_encrypt",
    "sm4_ctr",
    "sm4_ecb_decrypt",
    "sm4_ecb_encrypt",
    "sm4_gcm_decrypt",
    "sm4_gcm_encrypt",
]
