"""SM2 (GB/T 32918): keys, signatures with the Z value, public-key encryption, encodings.

The protocol lives here once; providers supply only point arithmetic. Encodings are
explicit parameters, never guessed (see CRYPTO_VECTORS.md, "Interoperability notes"):

- signatures: ``"der"`` (SEQUENCE {r, s}; certificates, TLCP, most APIs) or ``"raw"``
  (r ‖ s, 64 bytes; several Chinese platforms);
- ciphertexts: ``"c1c3c2"`` (04‖x‖y ‖ C3 ‖ C2, GB/T 32918.4-2016), ``"c1c2c3"`` (the
  2010 draft order some old systems still send) or ``"asn1"`` (GM/T 0009 SEQUENCE
  {x, y, hash, ciphertext}, used by TLCP);
- public keys: read 65-byte 04‖x‖y, 33-byte compressed, or 64-byte x‖y; written 04‖x‖y.
"""

from __future__ import annotations

import hmac
import secrets

from hpf.crypto import _ec, asn1, keyfmt
from hpf.crypto.core import sm3_kdf
from hpf.crypto.errors import InvalidCiphertext, InvalidInput, InvalidKey, InvalidPublicKey, InvalidSignature
from hpf.crypto.providers import Point, Provider, active

DEFAULT_ID = b"1234567812345678"
N = _ec.N
SIGNATURE_ENCODINGS = ("der", "raw")
CIPHERTEXT_FORMS = ("c1c3c2", "c1c2c3", "asn1")
MAX_PLAINTEXT = 1 << 20  # SM2 encryption carries keys and short secrets, not files
_CURVE_PREFIX = b"".join(v.to_bytes(32, "big") for v in (_ec.A, _ec.B, _ec.GX, _ec.GY))


def _p(provider: Provider | None) -> Provider:
    return provider or active()


def _i2b(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _random_scalar() -> int:
    return secrets.randbelow(N - 1) + 1  # uniform in [1, n-1]


class SM2PublicKey:
    __slots__ = ("point",)

    def __init__(self, point: Point) -> None:
        if point is None or not _ec.is_on_curve(point):
            raise InvalidPublicKey()
        self.point = point

    @classmethod
    def from_bytes(cls, data: bytes) -> SM2PublicKey:
        """Accept 04‖x‖y (65), 02/03‖x (33) or bare x‖y (64 bytes)."""
        data = bytes(data)
        if len(data) == 65 and data[0] == 4:
            return cls((int.from_bytes(data[1:33], "big"), int.from_bytes(data[33:], "big")))
        if len(data) == 64:
            return cls((int.from_bytes(data[:32], "big"), int.from_bytes(data[32:], "big")))
        if len(data) == 33 and data[0] in (2, 3):
            x = int.from_bytes(data[1:], "big")
            if x >= _ec.P:
                raise InvalidPublicKey()
            point = _ec.decompress(x, data[0] == 3)
            if point is None:
                raise InvalidPublicKey()
            return cls(point)
        raise InvalidPublicKey("公钥编码长度不正确（应为65、64或33字节）", internal=f"length {len(data)}")

    @classmethod
    def from_hex(cls, text: str) -> SM2PublicKey:
        try:
            return cls.from_bytes(bytes.fromhex(text))
        except ValueError:
            raise InvalidPublicKey("公钥不是合法的十六进制串") from None

    def to_bytes(self, *, compressed: bool = False) -> bytes:
        x, y = self.point
        if compressed:
            return bytes([2 | (y & 1)]) + _i2b(x)
        return b"\x04" + _i2b(x) + _i2b(y)

    def hex(self) -> str:
        return self.to_bytes().hex()

    @classmethod
    def from_der(cls, der: bytes) -> SM2PublicKey:
        """From a SubjectPublicKeyInfo (id-ecPublicKey + sm2p256v1, or the bare SM2 OID)."""
        return cls.from_bytes(keyfmt.public_key_from_der(der))

    def to_der(self) -> bytes:
        return keyfmt.public_key_to_der(self.to_bytes())

    @classmethod
    def from_pem(cls, text: str | bytes) -> SM2PublicKey:
        return cls.from_der(keyfmt.from_pem(text, ("PUBLIC KEY",), InvalidPublicKey)[1])

    def to_pem(self) -> str:
        return keyfmt.to_pem(self.to_der(), "PUBLIC KEY")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SM2PublicKey) and other.point == self.point

    def __hash__(self) -> int:
        return hash(self.point)

    def __repr__(self) -> str:
        return f"SM2PublicKey({self.to_bytes(compressed=True).hex()})"

    # -------------------------------------------------------------- signatures

    def z_value(self, uid: bytes = DEFAULT_ID, *, provider: Provider | None = None) -> bytes:
        """Z = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA)."""
        uid = bytes(uid)
        if len(uid) * 8 > 0xFFFF:
            raise InvalidInput("SM2 用户标识过长", internal=f"uid length {len(uid)}")
        x, y = self.point
        data = (len(uid) * 8).to_bytes(2, "big") + uid + _CURVE_PREFIX + _i2b(x) + _i2b(y)
        return _p(provider).sm3.hash(data)

    def message_digest(self, message: bytes, uid: bytes = DEFAULT_ID, *,
                       provider: Provider | None = None) -> bytes:
        """e = SM3(Z ‖ M), the value actually signed."""
        return _p(provider).sm3.hash(self.z_value(uid, provider=provider) + bytes(message))

    def verify(self, signature: bytes, message: bytes, *, uid: bytes = DEFAULT_ID,
               encoding: str = "der", provider: Provider | None = None) -> bool:
        """True when the signature is valid. A malformed signature raises InvalidSignature;
        a well-formed one that does not match returns False."""
        e = self.message_digest(message, uid, provider=provider)
        return self.verify_digest(signature, e, encoding=encoding, provider=provider)

    def verify_digest(self, signature: bytes, digest: bytes, *, encoding: str = "der",
                      provider: Provider | None = None) -> bool:
        r, s = decode_signature(signature, encoding)
        if not (1 <= r < N and 1 <= s < N):
            return False
        t = (r + s) % N
        if t == 0:
            return False
        point = _p(provider).sm2.mul_base_add(s, t, self.point)
        if point is None:
            return False
        return (int.from_bytes(digest, "big") + point[0]) % N == r

    # -------------------------------------------------------------- encryption

    def encrypt(self, plaintext: bytes, *, form: str = "c1c3c2", provider: Provider | None = None,
                _k: int | None = None) -> bytes:
        """SM2 public-key encryption (GB/T 32918.4). ``_k`` exists only for known-answer tests."""
        plaintext = bytes(plaintext)
        if not plaintext or len(plaintext) > MAX_PLAINTEXT:
            raise InvalidInput("SM2 加密的明文长度必须在1字节到1MiB之间", internal=f"length {len(plaintext)}")
        _check_form(form)
        engine = _p(provider)
        while True:
            k = _k or _random_scalar()
            c1 = engine.sm2.mul_base(k)
            shared = engine.sm2.mul(k, self.point)
            if c1 is None or shared is None:  # impossible for k in [1, n-1] and a valid key
                raise InvalidPublicKey()
            x2, y2 = _i2b(shared[0]), _i2b(shared[1])
            t = sm3_kdf(x2 + y2, len(plaintext), provider=engine)
            if any(t):
                break
            if _k:  # pragma: no cover - probability 2^-8len
                raise InvalidInput(internal="injected k gives an all-zero KDF output")
        c2 = bytes(a ^ b for a, b in zip(plaintext, t, strict=True))
        c3 = engine.sm3.hash(x2 + plaintext + y2)
        return encode_ciphertext(c1, c3, c2, form)


class SM2PrivateKey:
    __slots__ = ("_d", "_public")

    def __init__(self, d: int) -> None:
        if not 1 <= d <= N - 2:  # d = n-1 has no (1+d)^-1 mod n
            raise InvalidKey("SM2 私钥不在有效范围 [1, n-2] 内")
        self._d = d
        self._public: SM2PublicKey | None = None

    @classmethod
    def generate(cls) -> SM2PrivateKey:
        return cls(secrets.randbelow(N - 2) + 1)

    @classmethod
    def from_bytes(cls, data: bytes) -> SM2PrivateKey:
        if len(data) != 32:
            raise InvalidKey("SM2 私钥长度必须为32字节", internal=f"length {len(data)}")
        return cls(int.from_bytes(data, "big"))

    @classmethod
    def from_hex(cls, text: str) -> SM2PrivateKey:
        try:
            return cls.from_bytes(bytes.fromhex(text))
        except ValueError:
            raise InvalidKey("SM2 私钥不是合法的十六进制串") from None

    def to_bytes(self) -> bytes:
        return _i2b(self._d)

    @classmethod
    def from_der(cls, der: bytes) -> SM2PrivateKey:
        """From PKCS#8 or SEC1 DER; a public key inside must match the private scalar."""
        d, point = keyfmt.private_key_from_der(der)
        key = cls.from_bytes(d)
        if point is not None and SM2PublicKey.from_bytes(point) != key.public_key():
            raise InvalidKey("私钥文件中的公钥与私钥不匹配")
        return key

    def to_der(self) -> bytes:
        """PKCS#8 (unencrypted: protect it with the key management, not a file password)."""
        return keyfmt.private_key_to_der(self.to_bytes(), self.public_key().to_bytes())

    @classmethod
    def from_pem(cls, text: str | bytes, password: str | bytes | None = None) -> SM2PrivateKey:
        """PKCS#8, SEC1, or password-protected PKCS#8 (PBKDF2-HMAC-SM3 + SM4-CBC, GmSSL's format)."""
        labels = ("PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY")
        label, der = keyfmt.from_pem(text, labels, InvalidKey)
        if label == "ENCRYPTED PRIVATE KEY":
            if not password:
                raise InvalidKey("私钥已用口令加密，需要提供口令")
            secret = password.encode() if isinstance(password, str) else password
            der = keyfmt.decrypt_private_key(der, secret)
        return cls.from_der(der)

    def to_pem(self, password: str | bytes | None = None) -> str:
        """Unencrypted PKCS#8, or with ``password`` an ENCRYPTED PRIVATE KEY that GmSSL and Tongsuo read."""
        if password:
            secret = password.encode() if isinstance(password, str) else password
            return keyfmt.to_pem(keyfmt.encrypt_private_key(self.to_der(), secret), "ENCRYPTED PRIVATE KEY")
        return keyfmt.to_pem(self.to_der(), "PRIVATE KEY")

    def public_key(self, *, provider: Provider | None = None) -> SM2PublicKey:
        if self._public is None:
            self._public = SM2PublicKey(_p(provider).sm2.mul_base(self._d))
        return self._public

    def __repr__(self) -> str:  # never the scalar
        return f"SM2PrivateKey(public={self.public_key().to_bytes(compressed=True).hex()})"

    def sign(self, message: bytes, *, uid: bytes = DEFAULT_ID, encoding: str = "der",
             provider: Provider | None = None, _k: int | None = None) -> bytes:
        e = self.public_key(provider=provider).message_digest(message, uid, provider=provider)
        return self.sign_digest(e, encoding=encoding, provider=provider, _k=_k)

    def sign_digest(self, digest: bytes, *, encoding: str = "der", provider: Provider | None = None,
                    _k: int | None = None) -> bytes:
        """Sign e = SM3(Z ‖ M) computed by the caller (GB/T 32918.2, 6.1 steps A3–A7)."""
        if encoding not in SIGNATURE_ENCODINGS:
            raise InvalidInput(f"未知的签名编码：{encoding}")
        if len(digest) != 32:
            raise InvalidInput("待签名摘要必须为32字节", internal=f"length {len(digest)}")
        e, d = int.from_bytes(digest, "big"), self._d
        inv = pow(1 + d, -1, N)
        engine = _p(provider).sm2
        while True:
            k = _k or _random_scalar()
            x1 = engine.mul_base(k)[0]
            r = (e + x1) % N
            if r == 0 or r + k == N:
                if _k:
                    raise InvalidInput(internal="injected k is unusable")
                continue
            s = inv * (k - r * d) % N
            if s:
                return encode_signature(r, s, encoding)
            if _k:
                raise InvalidInput(internal="injected k is unusable")

    def decrypt(self, ciphertext: bytes, *, form: str = "c1c3c2", provider: Provider | None = None) -> bytes:
        c1, c3, c2 = decode_ciphertext(ciphertext, form)
        engine = _p(provider)
        shared = engine.sm2.mul(self._d, c1)
        if shared is None:
            raise InvalidCiphertext()
        x2, y2 = _i2b(shared[0]), _i2b(shared[1])
        t = sm3_kdf(x2 + y2, len(c2), provider=engine)
        if not any(t):
            raise InvalidCiphertext(internal="KDF output all zero")
        plaintext = bytes(a ^ b for a, b in zip(c2, t, strict=True))
        if not hmac.compare_digest(engine.sm3.hash(x2 + plaintext + y2), c3):
            raise InvalidCiphertext(internal="C3 mismatch")
        return plaintext


# ---------------------------------------------------------------- encodings

def encode_signature(r: int, s: int, encoding: str = "der") -> bytes:
    if encoding == "raw":
        return _i2b(r) + _i2b(s)
    if encoding == "der":
        return asn1.encode_sequence(asn1.encode_integer(r), asn1.encode_integer(s))
    raise InvalidInput(f"未知的签名编码：{encoding}")


def decode_signature(signature: bytes, encoding: str = "der") -> tuple[int, int]:
    signature = bytes(signature)
    if encoding == "raw":
        if len(signature) != 64:
            raise InvalidSignature("原始格式（r‖s）签名必须为64字节", internal=f"length {len(signature)}")
        return int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if encoding == "der":
        if len(signature) > 80:
            raise InvalidSignature("DER 签名过长", internal=f"length {len(signature)}")
        try:
            r, s = asn1.decode_sequence(signature, asn1.INTEGER, asn1.INTEGER)
        except asn1.DerError as exc:
            raise InvalidSignature("签名不是合法的 DER 编码", internal=exc.internal) from None
        return r, s
    raise InvalidInput(f"未知的签名编码：{encoding}")


def convert_signature(signature: bytes, source: str, target: str) -> bytes:
    return encode_signature(*decode_signature(signature, source), target)


def _check_form(form: str) -> None:
    if form not in CIPHERTEXT_FORMS:
        raise InvalidInput(f"未知的 SM2 密文格式：{form}（可选 c1c3c2、c1c2c3、asn1）")


def encode_ciphertext(c1: Point, c3: bytes, c2: bytes, form: str = "c1c3c2") -> bytes:
    _check_form(form)
    if form == "asn1":
        return asn1.encode_sequence(asn1.encode_integer(c1[0]), asn1.encode_integer(c1[1]),
                                    asn1.encode_octet_string(c3), asn1.encode_octet_string(c2))
    point = b"\x04" + _i2b(c1[0]) + _i2b(c1[1])
    return point + c3 + c2 if form == "c1c3c2" else point + c2 + c3


def decode_ciphertext(data: bytes, form: str = "c1c3c2") -> tuple[Point, bytes, bytes]:
    """Split a ciphertext into (C1 point, C3, C2), checking C1 is on the curve."""
    _check_form(form)
    data = bytes(data)
    if form == "asn1":
        try:
            x, y, c3, c2 = asn1.decode_sequence(data, asn1.INTEGER, asn1.INTEGER,
                                                asn1.OCTET_STRING, asn1.OCTET_STRING)
        except asn1.DerError as exc:
            raise InvalidCiphertext("SM2 密文不是合法的 ASN.1 编码", internal=exc.internal) from None
    else:
        if len(data) < 65 + 32 + 1 or data[0] != 4:
            raise InvalidCiphertext("SM2 密文过短或缺少 04 前缀", internal=f"length {len(data)}")
        x, y = int.from_bytes(data[1:33], "big"), int.from_bytes(data[33:65], "big")
        rest = data[65:]
        c3, c2 = (rest[:32], rest[32:]) if form == "c1c3c2" else (rest[-32:], rest[:-32])
    if len(c3) != 32 or not c2 or len(c2) > MAX_PLAINTEXT:
        raise InvalidCiphertext(internal="bad C3/C2 length")
    if not _ec.is_on_curve((x, y)):
        raise InvalidCiphertext("SM2 密文的 C1 不在曲线上")
    return (x, y), c3, c2
