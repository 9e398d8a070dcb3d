"""Errors of the national-crypto layer.

Every failure is a ``CryptoError`` subclass with a stable ``code`` and a Chinese message.
Messages never carry key material, plaintext or ciphertext bytes: at most a length, a key
id or the name of the algorithm, so they are safe in logs and in client responses.
"""

from __future__ import annotations

from hpf.domain.errors import HpfError


class CryptoError(HpfError):
    code = "crypto_error"
    status = 400
    message = "密码运算失败"


class InvalidKey(CryptoError):
    """Wrong key length, a private key outside [1, n-2], a malformed key encoding."""

    code = "crypto_invalid_key"
    message = "密钥格式或长度不正确"


class InvalidPublicKey(InvalidKey):
    code = "crypto_invalid_public_key"
    message = "公钥无效（编码错误或点不在SM2曲线上）"


class InvalidCiphertext(CryptoError):
    """Malformed, truncated or unauthentic ciphertext (including a GCM tag that fails)."""

    code = "crypto_invalid_ciphertext"
    message = "密文格式错误或已被篡改"


class InvalidTag(InvalidCiphertext):
    code = "crypto_invalid_tag"
    message = "密文认证标签校验失败（数据已被篡改或密钥错误）"


class InvalidSignature(CryptoError):
    """Bad signature encoding (wrong size, bad DER). A well-formed signature that simply
    does not verify is not an exception: ``verify`` returns False."""

    code = "crypto_invalid_signature"
    message = "签名格式错误"


class InvalidInput(CryptoError):
    code = "crypto_invalid_input"
    message = "密码运算的输入参数不正确"


class UnknownKeyId(CryptoError):
    code = "crypto_unknown_key"
    status = 500
    message = "找不到对应的数据密钥"


class ProviderUnavailable(CryptoError):
    """A provider or engine was asked for but cannot run on this machine."""

    code = "crypto_provider_unavailable"
    status = 500
    message = "所需的密码服务提供者不可用"


class SelfTestFailed(CryptoError):
    code = "crypto_selftest_failed"
    status = 500
    message = "密码算法自检失败，系统拒绝提供服务"


class KeyManagementError(CryptoError):
    """The master key (KEK) is missing, wrong for the stored data keys, or unusable."""

    code = "crypto_key_management"
    status = 500
    message = "密钥管理错误"


class DeviceNotConfigured(KeyManagementError):
    code = "crypto_device_not_configured"
    message = "未配置密码设备（SDF）"


class DeviceError(KeyManagementError):
    """A GM/T 0018 device call returned an error code; ``internal`` names the call and code."""

    code = "crypto_device_error"
    message = "密码设备调用失败"


class IntegrityViolation(CryptoError):
    """A sealed row's MAC does not match its stored fields: it was changed outside the
    application. The application refuses to build on it (and so never re-seals it)."""

    code = "crypto_integrity_violation"
    status = 409
    message = "数据完整性校验失败：该记录在系统之外被修改，已拒绝处理，请联系系统管理员核查"


class StoredDataInvalid(CryptoError):
    """A stored encrypted field does not decrypt: the database, not the request, is at fault."""

    code = "crypto_stored_data_invalid"
    status = 500
    message = "存储的加密数据无法解密（数据被篡改或密钥不匹配），请联系系统管理员"
