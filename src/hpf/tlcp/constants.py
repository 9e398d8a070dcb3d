"""TLCP (GB/T 38636-2020) wire constants: version, content types, alerts, cipher suites."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

VERSION = 0x0101
VERSION_BYTES = b"\x01\x01"
MAX_PLAINTEXT = 1 << 14
MAX_CIPHERTEXT = MAX_PLAINTEXT + 2048
MAX_HANDSHAKE_MESSAGE = 1 << 16  # a certificate chain of a few SM2 certs is ~3 KiB
RANDOM_SIZE = 32
MASTER_SECRET_SIZE = 48
PRE_MASTER_SECRET_SIZE = 48
VERIFY_DATA_SIZE = 12
CURVE_SM2 = 41  # named curve id (RFC 8998); used in ECDHE parameters
CERT_TYPE_ECDSA_SIGN = 64  # TLCP reuses it for SM2 certificates


class ContentType(IntEnum):
    CHANGE_CIPHER_SPEC = 20
    ALERT = 21
    HANDSHAKE = 22
    APPLICATION_DATA = 23


class HandshakeType(IntEnum):
    HELLO_REQUEST = 0
    CLIENT_HELLO = 1
    SERVER_HELLO = 2
    CERTIFICATE = 11
    SERVER_KEY_EXCHANGE = 12
    CERTIFICATE_REQUEST = 13
    SERVER_HELLO_DONE = 14
    CERTIFICATE_VERIFY = 15
    CLIENT_KEY_EXCHANGE = 16
    FINISHED = 20


class AlertLevel(IntEnum):
    WARNING = 1
    FATAL = 2


class AlertDescription(IntEnum):
    CLOSE_NOTIFY = 0
    UNEXPECTED_MESSAGE = 10
    BAD_RECORD_MAC = 20
    DECRYPTION_FAILED = 21
    RECORD_OVERFLOW = 22
    DECOMPRESSION_FAILURE = 30
    HANDSHAKE_FAILURE = 40
    BAD_CERTIFICATE = 42
    UNSUPPORTED_CERTIFICATE = 43
    CERTIFICATE_REVOKED = 44
    CERTIFICATE_EXPIRED = 45
    CERTIFICATE_UNKNOWN = 46
    ILLEGAL_PARAMETER = 47
    UNKNOWN_CA = 48
    ACCESS_DENIED = 49
    DECODE_ERROR = 50
    DECRYPT_ERROR = 51
    PROTOCOL_VERSION = 70
    INSUFFICIENT_SECURITY = 71
    INTERNAL_ERROR = 80
    USER_CANCELED = 90
    NO_RENEGOTIATION = 100
    # TLCP's own codes (GB/T 38636 6.4.5.2)
    UNSUPPORTED_SITE2SITE = 200
    NO_AREA = 201
    UNSUPPORTED_AREATYPE = 202
    BAD_IBCPARAM = 203
    UNSUPPORTED_IBCPARAM = 204
    IDENTITY_NEED = 205


@dataclass(frozen=True)
class CipherSuite:
    code: int
    name: str  # GB/T 38636 name
    openssl_name: str  # Tongsuo's name, what operators see in its tools
    ecdhe: bool
    aead: bool
    mac_key_size: int
    key_size: int
    iv_size: int  # full IV for CBC (TLS 1.1 style, unused: every record carries its own), implicit for GCM

    @property
    def key_block_size(self) -> int:
        return 2 * (self.mac_key_size + self.key_size + self.iv_size)


ECC_SM4_CBC_SM3 = CipherSuite(0xE013, "ECC_SM4_CBC_SM3", "ECC-SM2-SM4-CBC-SM3", False, False, 32, 16, 16)
ECC_SM4_GCM_SM3 = CipherSuite(0xE053, "ECC_SM4_GCM_SM3", "ECC-SM2-SM4-GCM-SM3", False, True, 0, 16, 4)
ECDHE_SM4_CBC_SM3 = CipherSuite(0xE011, "ECDHE_SM4_CBC_SM3", "ECDHE-SM2-SM4-CBC-SM3", True, False, 32, 16, 16)
ECDHE_SM4_GCM_SM3 = CipherSuite(0xE051, "ECDHE_SM4_GCM_SM3", "ECDHE-SM2-SM4-GCM-SM3", True, True, 0, 16, 4)

SUITES = {s.code: s for s in (ECC_SM4_GCM_SM3, ECC_SM4_CBC_SM3, ECDHE_SM4_GCM_SM3, ECDHE_SM4_CBC_SM3)}
# Server preference: AEAD first; ECDHE (forward secrecy) only when the peer offers it and has
# double certificates, which the handshake checks.
DEFAULT_SUITES = (ECC_SM4_GCM_SM3, ECC_SM4_CBC_SM3, ECDHE_SM4_GCM_SM3, ECDHE_SM4_CBC_SM3)


def suite_by_name(name: str) -> CipherSuite:
    """Accept the standard name, Tongsuo's name, GmSSL's TLS_ prefix or the hex code."""
    key = name.strip().upper().replace("-", "_")
    for suite in SUITES.values():
        names = {suite.name, "TLS_" + suite.name, suite.openssl_name.replace("-", "_"), f"0X{suite.code:04X}"}
        if key in names:
            return suite
    raise ValueError(name)
