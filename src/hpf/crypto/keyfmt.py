"""SM2 keys in the standard containers: SubjectPublicKeyInfo, PKCS#8 and SEC1, DER or PEM.

What OpenSSL, GmSSL/Tongsuo and certificate authorities exchange. Written: SPKI and PKCS#8
with AlgorithmIdentifier {id-ecPublicKey, sm2p256v1} (GM/T 0009 / RFC 5480 style). Read:
that, SEC1 ``EC PRIVATE KEY``, and the form some Chinese platforms use with the SM2 OID
itself as the algorithm (GB/T 35276), so partner keys load whichever they send.
"""

from __future__ import annotations

import base64
import re

from hpf.crypto import asn1
from hpf.crypto.errors import InvalidKey, InvalidPublicKey

ID_EC_PUBLIC_KEY = asn1.encode_oid("1.2.840.10045.2.1")
SM2_CURVE = asn1.encode_oid("1.2.156.10197.1.301")
_ALGORITHM = asn1.encode_sequence(ID_EC_PUBLIC_KEY, SM2_CURVE)
_PEM = re.compile(r"-----BEGIN ([A-Z ]+)-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END \1-----")


def _oid_body(encoded: bytes) -> bytes:
    return encoded[2:]


def _check_algorithm(body: bytes, error) -> None:
    items = asn1.read_all(body)
    oids = [c for t, c in items if t == asn1.OID]
    ok = (oids[:2] == [_oid_body(ID_EC_PUBLIC_KEY), _oid_body(SM2_CURVE)]
          or (oids[:1] == [_oid_body(SM2_CURVE)] and all(t in (asn1.OID, asn1.NULL) for t, _ in items)))
    if not ok:
        raise error("密钥不是 SM2（sm2p256v1）密钥", internal="unexpected AlgorithmIdentifier")


# ---------------------------------------------------------------- public keys

def public_key_to_der(point_bytes: bytes) -> bytes:
    """SubjectPublicKeyInfo for an uncompressed point 04‖x‖y."""
    return asn1.encode_sequence(_ALGORITHM, asn1.encode_bit_string(point_bytes))


def public_key_from_der(der: bytes) -> bytes:
    """The point (as stored: 04‖x‖y or compressed) inside a SubjectPublicKeyInfo."""
    try:
        algorithm, bits = asn1.decode_sequence(bytes(der), asn1.SEQUENCE, asn1.BIT_STRING)
        _check_algorithm(algorithm, InvalidPublicKey)
    except asn1.DerError as exc:
        raise InvalidPublicKey("公钥不是合法的 SubjectPublicKeyInfo DER 编码",
                               internal=exc.internal) from None
    if not bits or bits[0] != 0:
        raise InvalidPublicKey(internal="BIT STRING with unused bits")
    return bits[1:]


# ---------------------------------------------------------------- private keys

def private_key_to_der(d: bytes, point_bytes: bytes) -> bytes:
    """PKCS#8 PrivateKeyInfo wrapping a SEC1 ECPrivateKey (with the public key)."""
    # [0] parameters are optional in RFC 5915 but GmSSL refuses a key without them.
    sec1 = asn1.encode_sequence(asn1.encode_integer(1), asn1.encode_octet_string(d),
                                asn1.encode_tagged(0, SM2_CURVE),
                                asn1.encode_tagged(1, asn1.encode_bit_string(point_bytes)))
    return asn1.encode_sequence(asn1.encode_integer(0), _ALGORITHM, asn1.encode_octet_string(sec1))


def private_key_from_der(der: bytes) -> tuple[bytes, bytes | None]:
    """(d, point or None) from PKCS#8 or SEC1 DER."""
    try:
        body, end = asn1.read_tlv(bytes(der), 0, asn1.SEQUENCE)
        if end != len(der):
            raise asn1.DerError(internal="trailing bytes")
        items = asn1.read_all(body)
        if len(items) >= 3 and items[0] == (asn1.INTEGER, b"\x00") and items[1][0] == asn1.SEQUENCE:
            _check_algorithm(items[1][1], InvalidKey)
            if items[2][0] != asn1.OCTET_STRING:
                raise asn1.DerError(internal="PKCS#8 without an OCTET STRING key")
            return _sec1(items[2][1])
        return _sec1(bytes(der))
    except asn1.DerError as exc:
        raise InvalidKey("私钥不是合法的 PKCS#8 或 SEC1 DER 编码", internal=exc.internal) from None


def _sec1(der: bytes) -> tuple[bytes, bytes | None]:
    body, end = asn1.read_tlv(der, 0, asn1.SEQUENCE)
    if end != len(der):
        raise asn1.DerError(internal="trailing bytes after ECPrivateKey")
    items = asn1.read_all(body)
    if len(items) < 2 or items[0] != (asn1.INTEGER, b"\x01") or items[1][0] != asn1.OCTET_STRING:
        raise asn1.DerError(internal="not an ECPrivateKey")
    point = None
    for tag, contents in items[2:]:
        if tag == 0xA0:
            _check_algorithm(contents, InvalidKey)
        elif tag == 0xA1:
            inner_tag, bits, _ = asn1.read_any(contents, 0)
            if inner_tag != asn1.BIT_STRING or not bits or bits[0] != 0:
                raise asn1.DerError(internal="bad public key in ECPrivateKey")
            point = bits[1:]
    return items[1][1].rjust(32, b"\0"), point


# ---------------------------------------------------------------- PEM

def to_pem(der: bytes, label: str) -> str:
    body = base64.encodebytes(der).decode("ascii").replace("\n", "")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def from_pem(text: str | bytes, labels: tuple[str, ...], error) -> tuple[str, bytes]:
    if isinstance(text, bytes):
        text = text.decode("ascii", errors="replace")
    for match in _PEM.finditer(text):
        if match.group(1) in labels:
            try:
                return match.group(1), base64.b64decode("".join(match.group(2).split()), validate=True)
            except ValueError:
                raise error("PEM 内容不是合法的 Base64") from None
    raise error(f"没有找到 PEM 块（{' / '.join(labels)}）")


# ---------------------------------------------------------------- password-protected private keys

PBES2 = "1.2.840.113549.1.5.13"
PBKDF2 = "1.2.840.113549.1.5.12"
HMAC_SM3 = "1.2.156.10197.1.401.2"
SM4_CBC = "1.2.156.10197.1.104.2"
DEFAULT_ITERATIONS = 65536  # what GmSSL's sm2keygen uses
MAX_ITERATIONS = 10_000_000  # a planted file must not pin a CPU for minutes


def encrypt_private_key(der: bytes, password: bytes, *, iterations: int = DEFAULT_ITERATIONS) -> bytes:
    """PKCS#8 EncryptedPrivateKeyInfo: PBES2 with PBKDF2-HMAC-SM3 and SM4-CBC (GmSSL's format,
    which Tongsuo also reads)."""
    from hpf.crypto.core import pbkdf2_hmac_sm3, random_bytes, sm4_cbc_encrypt

    salt, iv = random_bytes(16), random_bytes(16)
    key = pbkdf2_hmac_sm3(password, salt, iterations, 16)
    kdf = asn1.encode_sequence(
        asn1.encode_oid(PBKDF2),
        asn1.encode_sequence(asn1.encode_octet_string(salt), asn1.encode_integer(iterations),
                             asn1.encode_integer(16), asn1.encode_sequence(asn1.encode_oid(HMAC_SM3))))
    scheme = asn1.encode_sequence(asn1.encode_oid(SM4_CBC), asn1.encode_octet_string(iv))
    algorithm = asn1.encode_sequence(asn1.encode_oid(PBES2), asn1.encode_sequence(kdf, scheme))
    return asn1.encode_sequence(algorithm, asn1.encode_octet_string(sm4_cbc_encrypt(key, iv, der)))


def decrypt_private_key(der: bytes, password: bytes) -> bytes:
    """The PrivateKeyInfo DER inside an EncryptedPrivateKeyInfo (PBES2, PBKDF2-HMAC-SM3, SM4-CBC)."""
    from hpf.crypto.core import pbkdf2_hmac_sm3, sm4_cbc_decrypt
    from hpf.crypto.errors import CryptoError

    try:
        algorithm, data = asn1.decode_sequence(bytes(der), asn1.SEQUENCE, asn1.OCTET_STRING)
        oid, params = _pair(algorithm)
        kdf, scheme = (c for _, c in _expect(params, 2))
        kdf_oid, kdf_params = _pair(kdf)
        fields = _expect(kdf_params, None)
        if oid != PBES2 or kdf_oid != PBKDF2 or len(fields) < 2:
            raise InvalidKey("加密私钥的算法不受支持（仅支持 PBES2/PBKDF2）")
        salt, iterations = fields[0][1], asn1.decode_integer(fields[1][1])
        prfs = [asn1.decode_oid(asn1.read_all(c)[0][1]) for t, c in fields[2:] if t == asn1.SEQUENCE]
        prf = prfs[0] if prfs else None  # absent = hmacWithSHA1, which we refuse
        scheme_oid, rest = _pair(scheme)
        iv, end = asn1.read_tlv(rest, 0, asn1.OCTET_STRING)
        if end != len(rest):
            raise asn1.DerError(internal="trailing bytes after the IV")
    except asn1.DerError as exc:
        raise InvalidKey("加密私钥不是合法的 PKCS#8 DER 编码", internal=exc.internal) from None
    if prf != HMAC_SM3 or scheme_oid != SM4_CBC:
        raise InvalidKey("加密私钥须使用 HMAC-SM3 与 SM4-CBC（国密 PKCS#8）",
                         internal=f"prf {prf}, scheme {scheme_oid}")
    if not 1 <= iterations <= MAX_ITERATIONS or len(iv) != 16 or not salt:
        raise InvalidKey("加密私钥的参数不合理", internal=f"iterations {iterations}")
    key = pbkdf2_hmac_sm3(password, salt, iterations, 16)
    try:
        return sm4_cbc_decrypt(key, iv, data)
    except CryptoError:
        raise InvalidKey("私钥口令错误或私钥文件已损坏") from None


def _pair(body: bytes) -> tuple[str, bytes]:
    """(OID, the encoding of what follows it) of an AlgorithmIdentifier-like SEQUENCE body."""
    tag, contents, end = asn1.read_any(body, 0)
    if tag != asn1.OID:
        raise asn1.DerError(internal="AlgorithmIdentifier without an OID")
    return asn1.decode_oid(contents), body[end:]


def _expect(encoded: bytes, count: int | None) -> list[tuple[int, bytes]]:
    """The elements of the one SEQUENCE ``encoded`` holds (exactly ``count`` of them, if given)."""
    body, end = asn1.read_tlv(encoded, 0, asn1.SEQUENCE)
    items = asn1.read_all(body)
    if end != len(encoded) or (count is not None and len(items) != count):
        raise asn1.DerError(internal="unexpected PBES2 parameters")
    return items
