"""Crypto providers: which code computes SM3, SM4 and SM2 on this machine.

A provider is three engines; the protocols on top (SM2 signatures with the Z value, the
KDF, the C3 check, encodings, GCM framing) are shared code, so providers cannot disagree
about anything but arithmetic.

- ``native``: OpenSSL for everything. SM3 through Python's own ``hashlib`` (no wheel),
  SM4 through the ``cryptography`` wheel, SM2 point arithmetic through the system
  libcrypto via ctypes (``_libcrypto``; constant-time ladder for secret scalars).
- ``portable``: nothing beyond the Python runtime: SM3 from hashlib (gmssl if the
  runtime's OpenSSL lacks it), gmssl's SM4, HPF's optimised pure-Python SM2 arithmetic
  (``_ec``). What a Loongson install with no wheels and no usable libcrypto still runs.
- ``reference``: gmssl everywhere. Slow; the independent implementation the others are
  cross-checked against.
- ``auto`` (default): per algorithm the first that works of OpenSSL, then HPF's SM2
  arithmetic (SM2 only), then gmssl; the report names what was chosen and why.

Choose with ``HPF_CRYPTO_PROVIDER`` or ``[crypto] provider``.
"""

from __future__ import annotations

import hashlib
import hmac as _hmac
import os
import threading
from dataclasses import dataclass, field
from typing import Protocol

from hpf.crypto import modes
from hpf.crypto.errors import InvalidInput, InvalidTag, ProviderUnavailable

PROVIDER_NAMES = ("auto", "native", "portable", "reference")
Point = tuple[int, int]


class Sm3Engine(Protocol):
    name: str
    library: str

    def hash(self, data: bytes) -> bytes: ...
    def hmac(self, key: bytes, data: bytes) -> bytes: ...
    def pbkdf2(self, password: bytes, salt: bytes, iterations: int, dklen: int) -> bytes: ...


class Sm4Engine(Protocol):
    name: str
    library: str

    def ecb_encrypt(self, key: bytes, data: bytes) -> bytes: ...
    def ecb_decrypt(self, key: bytes, data: bytes) -> bytes: ...
    def cbc_encrypt(self, key: bytes, iv: bytes, data: bytes) -> bytes: ...
    def cbc_decrypt(self, key: bytes, iv: bytes, data: bytes) -> bytes: ...
    def ctr(self, key: bytes, counter_block: bytes, data: bytes) -> bytes: ...
    def gcm_encrypt(self, key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes: ...
    def gcm_decrypt(self, key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes: ...
    def ecb_iterate(self, key: bytes, block: bytes, rounds: int) -> bytes: ...


class Sm2Engine(Protocol):
    name: str
    library: str

    def mul_base(self, k: int) -> Point | None: ...
    def mul(self, k: int, point: Point) -> Point | None: ...
    def mul_base_add(self, u1: int, u2: int, point: Point) -> Point | None: ...


# ---------------------------------------------------------------- generic constructions

def hmac_from_hash(hash_fn, key: bytes, data: bytes, block_size: int = 64) -> bytes:
    """RFC 2104 HMAC over a bare hash function (for engines that offer only the hash)."""
    if len(key) > block_size:
        key = hash_fn(key)
    key = key.ljust(block_size, b"\0")
    inner = hash_fn(bytes(b ^ 0x36 for b in key) + data)
    return hash_fn(bytes(b ^ 0x5C for b in key) + inner)


def pbkdf2_from_hmac(hmac_fn, password: bytes, salt: bytes, iterations: int, dklen: int,
                     digest_size: int = 32) -> bytes:
    """RFC 8018 PBKDF2 over an HMAC function."""
    blocks = []
    for i in range(1, -(-dklen // digest_size) + 1):
        u = hmac_fn(password, salt + i.to_bytes(4, "big"))
        acc = int.from_bytes(u, "big")
        for _ in range(iterations - 1):
            u = hmac_fn(password, u)
            acc ^= int.from_bytes(u, "big")
        blocks.append(acc.to_bytes(digest_size, "big"))
    return b"".join(blocks)[:dklen]


# ---------------------------------------------------------------- reference engines (gmssl)

def _gmssl():
    try:
        from gmssl import sm2, sm3, sm4
    except ImportError as exc:  # pragma: no cover - gmssl is a hard dependency
        raise ProviderUnavailable("参考密码实现 gmssl 未安装", internal=str(exc)) from exc
    return sm2, sm3, sm4


class GmsslSm3:
    name = "gmssl-sm3"
    library = "gmssl (纯Python)"

    def __init__(self) -> None:
        self._sm3 = _gmssl()[1]

    def hash(self, data: bytes) -> bytes:
        return bytes.fromhex(self._sm3.sm3_hash(list(data)))

    def hmac(self, key: bytes, data: bytes) -> bytes:
        return hmac_from_hash(self.hash, key, data)

    def pbkdf2(self, password: bytes, salt: bytes, iterations: int, dklen: int) -> bytes:
        return pbkdf2_from_hmac(self.hmac, password, salt, iterations, dklen)


class GmsslSm4:
    name = "gmssl-sm4"
    library = "gmssl (纯Python)"

    def __init__(self) -> None:
        self._sm4 = _gmssl()[2]
        self._cache: dict[tuple[bytes, int], object] = {}
        self._lock = threading.Lock()

    def _context(self, key: bytes, mode: int):
        # gmssl's key schedule is slow; keep the last few keys' round keys.
        with self._lock:
            ctx = self._cache.get((key, mode))
            if ctx is None:
                ctx = self._sm4.CryptSM4()
                ctx.set_key(key, mode)
                if len(self._cache) > 64:
                    self._cache.clear()
                self._cache[(key, mode)] = ctx
        return ctx

    def _block(self, key: bytes, mode: int):
        ctx = self._context(key, mode)
        sk, one_round = ctx.sk, ctx.one_round
        return lambda block: bytes(one_round(sk, list(block)))

    def _enc(self, key: bytes):
        return self._block(key, self._sm4.SM4_ENCRYPT)

    def _dec(self, key: bytes):
        return self._block(key, self._sm4.SM4_DECRYPT)

    def ecb_encrypt(self, key: bytes, data: bytes) -> bytes:
        return modes.ecb(self._enc(key), data)

    def ecb_decrypt(self, key: bytes, data: bytes) -> bytes:
        return modes.ecb(self._dec(key), data)

    def cbc_encrypt(self, key: bytes, iv: bytes, data: bytes) -> bytes:
        return modes.cbc_encrypt(self._enc(key), iv, data)

    def cbc_decrypt(self, key: bytes, iv: bytes, data: bytes) -> bytes:
        return modes.cbc_decrypt(self._dec(key), iv, data)

    def ctr(self, key: bytes, counter_block: bytes, data: bytes) -> bytes:
        return modes.ctr(self._enc(key), counter_block, data)

    def gcm_encrypt(self, key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
        return modes.gcm_encrypt(self._enc(key), nonce, data, aad)

    def gcm_decrypt(self, key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
        return modes.gcm_decrypt(self._enc(key), nonce, data, aad)

    def ecb_iterate(self, key: bytes, block: bytes, rounds: int) -> bytes:
        """Encrypt a block ``rounds`` times (the GB/T 32907 A.2 test)."""
        ctx = self._context(key, self._sm4.SM4_ENCRYPT)
        sk, one_round, data = ctx.sk, ctx.one_round, list(block)
        for _ in range(rounds):
            data = one_round(sk, data)
        return bytes(data)


class GmsslSm2:
    """gmssl's point arithmetic (Jacobian, hex strings). Only its arithmetic is used: its
    own sign/encrypt draw k from ``random`` (not a CSPRNG) and its decrypt skips the C3
    check, so the protocol is ours (hpf.crypto.sm2)."""

    name = "gmssl-sm2"
    library = "gmssl (纯Python)"

    def __init__(self) -> None:
        sm2 = _gmssl()[0]
        table = sm2.default_ecc_table
        self._ctx = sm2.CryptSM2(private_key="1", public_key=table["g"], ecc_table=table)
        self._g = table["g"]
        self._n = int(table["n"], 16)

    @staticmethod
    def _hex(point: Point) -> str:
        return f"{point[0]:064x}{point[1]:064x}"

    @staticmethod
    def _point(text: str | None) -> Point | None:
        if not text or len(text) < 128:
            return None
        return int(text[:64], 16), int(text[64:128], 16)

    def _mul_hex(self, k: int, point_hex: str) -> Point | None:
        k %= self._n
        if k == 0:
            return None
        return self._point(self._ctx._kg(k, point_hex))

    def mul_base(self, k: int) -> Point | None:
        return self._mul_hex(k, self._g)

    def mul(self, k: int, point: Point) -> Point | None:
        return self._mul_hex(k, self._hex(point))

    def mul_base_add(self, u1: int, u2: int, point: Point) -> Point | None:
        p1, p2 = self.mul_base(u1), self.mul(u2, point)
        if p1 is None or p2 is None:
            return p1 or p2
        if p1 == p2:
            return self._jacobian_to_affine(self._ctx._double_point(self._hex(p1) + "1"))
        if p1[0] == p2[0]:
            return None  # P + (-P)
        return self._jacobian_to_affine(self._ctx._add_point(self._hex(p1) + "1", self._hex(p2)))

    def _jacobian_to_affine(self, text: str | None) -> Point | None:
        return self._point(self._ctx._convert_jacb_to_nor(text)) if text else None


# ---------------------------------------------------------------- native and fast engines

class OpenSslSm3:
    """SM3 from the OpenSSL that Python's hashlib is linked against: no extra wheel."""

    name = "openssl-sm3"

    def __init__(self) -> None:
        try:
            if hashlib.new("sm3", b"abc").digest()[:2] != b"\x66\xc7":
                raise ValueError("wrong digest")
        except ValueError as exc:
            raise ProviderUnavailable("本机 OpenSSL 不提供 SM3", internal=str(exc)) from exc
        import ssl

        self.library = f"{ssl.OPENSSL_VERSION} (hashlib)"

    def hash(self, data: bytes) -> bytes:
        return hashlib.new("sm3", data).digest()

    def hmac(self, key: bytes, data: bytes) -> bytes:
        return _hmac.digest(key, data, "sm3")

    def pbkdf2(self, password: bytes, salt: bytes, iterations: int, dklen: int) -> bytes:
        return hashlib.pbkdf2_hmac("sm3", password, salt, iterations, dklen)


class CryptographySm4:
    """SM4 through the ``cryptography`` wheel (OpenSSL, with its assembly where present)."""

    name = "openssl-sm4"

    def __init__(self) -> None:
        try:
            import cryptography
            from cryptography.exceptions import InvalidTag as _InvalidTag
            from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
            from cryptography.hazmat.primitives.ciphers import modes as m

            probe = Cipher(algorithms.SM4(bytes(16)), m.GCM(bytes(12))).encryptor()
            probe.update(b"x")
            probe.finalize()
        except Exception as exc:  # ImportError, UnsupportedAlgorithm: a build without SM4
            raise ProviderUnavailable("cryptography/OpenSSL 不提供 SM4", internal=repr(exc)) from exc
        self._cipher, self._alg, self._m, self._bad_tag = Cipher, algorithms.SM4, m, _InvalidTag
        self.library = f"cryptography {cryptography.__version__}"

    def _run(self, key: bytes, mode, data: bytes, encrypt: bool) -> bytes:
        c = self._cipher(self._alg(key), mode)
        ctx = c.encryptor() if encrypt else c.decryptor()
        return ctx.update(data) + ctx.finalize()

    def ecb_encrypt(self, key: bytes, data: bytes) -> bytes:
        modes.require_blocks(data)
        return self._run(key, self._m.ECB(), data, True)

    def ecb_decrypt(self, key: bytes, data: bytes) -> bytes:
        modes.require_blocks(data)
        return self._run(key, self._m.ECB(), data, False)

    def cbc_encrypt(self, key: bytes, iv: bytes, data: bytes) -> bytes:
        modes.require_blocks(data)
        return self._run(key, self._m.CBC(iv), data, True)

    def cbc_decrypt(self, key: bytes, iv: bytes, data: bytes) -> bytes:
        modes.require_blocks(data)
        return self._run(key, self._m.CBC(iv), data, False)

    def ctr(self, key: bytes, counter_block: bytes, data: bytes) -> bytes:
        return self._run(key, self._m.CTR(counter_block), data, True)

    def gcm_encrypt(self, key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
        _nonce_12(nonce)
        ctx = self._cipher(self._alg(key), self._m.GCM(nonce)).encryptor()
        if aad:
            ctx.authenticate_additional_data(aad)
        out = ctx.update(data) + ctx.finalize()
        return out + ctx.tag

    def gcm_decrypt(self, key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
        _nonce_12(nonce)
        if len(data) < 16:
            raise InvalidTag(internal="GCM input shorter than its tag")
        ctx = self._cipher(self._alg(key), self._m.GCM(nonce, data[-16:])).decryptor()
        if aad:
            ctx.authenticate_additional_data(aad)
        try:
            return ctx.update(data[:-16]) + ctx.finalize()
        except self._bad_tag:
            raise InvalidTag() from None

    def ecb_iterate(self, key: bytes, block: bytes, rounds: int) -> bytes:
        """Encrypt a block ``rounds`` times (the GB/T 32907 A.2 test) on one context."""
        ctx = self._cipher(self._alg(key), self._m.ECB()).encryptor()
        for _ in range(rounds):
            block = ctx.update(block)
        return block


def _nonce_12(nonce: bytes) -> None:
    if len(nonce) != 12:
        raise InvalidInput("GCM 随机数（nonce）必须为12字节", internal=f"nonce length {len(nonce)}")


class OpenSslSm2:
    """SM2 arithmetic in the system libcrypto via ctypes (hpf.crypto._libcrypto)."""

    name = "openssl-sm2"

    def __init__(self) -> None:
        try:
            from hpf.crypto import _ec
            from hpf.crypto._libcrypto import LibcryptoSm2

            engine = LibcryptoSm2()
            if engine.mul_base(7) != _ec.mul_base(7):  # a libcrypto that disagrees is not used
                raise OSError("SM2 self-check failed")
        except (OSError, AttributeError, ValueError) as exc:
            raise ProviderUnavailable("本机 OpenSSL libcrypto 不提供 SM2 曲线运算",
                                      internal=repr(exc)) from exc
        self.library = f"{engine.path} (ctypes EC_POINT_mul)"
        self.mul_base, self.mul, self.mul_base_add = engine.mul_base, engine.mul, engine.mul_base_add


class FastSm2:
    """HPF's own SM2 arithmetic on Python integers (precomputed base table, wNAF)."""

    name = "hpf-sm2"
    library = "hpf.crypto._ec (优化整数运算，纯Python，全CPU架构)"

    def __init__(self) -> None:
        from hpf.crypto import _ec

        self.mul_base = _ec.mul_base
        self.mul = _ec.mul
        self.mul_base_add = _ec.mul_base_add


# ---------------------------------------------------------------- providers

REFERENCE_ENGINES = {"sm3": GmsslSm3, "sm4": GmsslSm4, "sm2": GmsslSm2}
# Candidates in order of preference; ``native`` insists on the first of each.
NATIVE_ENGINES = {"sm3": (OpenSslSm3,), "sm4": (CryptographySm4,), "sm2": (OpenSslSm2, FastSm2)}
# Nothing beyond the Python runtime itself (no wheels, no ctypes): what a bare Loongson
# install still runs. SM3 stays on hashlib's OpenSSL where it has SM3, because PBKDF2
# password hashing at a real cost is impractical on any pure-Python SM3.
PORTABLE_ENGINES = {"sm3": (OpenSslSm3, GmsslSm3), "sm4": (GmsslSm4,), "sm2": (FastSm2,)}


@dataclass(frozen=True)
class Provider:
    name: str
    sm3: Sm3Engine
    sm4: Sm4Engine
    sm2: Sm2Engine
    # Engines ``auto`` could not take natively, and why.
    fallbacks: dict[str, str] = field(default_factory=dict)

    def engines(self) -> dict[str, Sm3Engine | Sm4Engine | Sm2Engine]:
        return {"sm3": self.sm3, "sm4": self.sm4, "sm2": self.sm2}


def build_provider(name: str) -> Provider:
    if name not in PROVIDER_NAMES:
        raise ProviderUnavailable(
            f"未知的密码服务提供者：{name}（可选 {'、'.join(PROVIDER_NAMES)}）", code="config_error")
    if name == "reference":
        return Provider("reference", **{k: cls() for k, cls in REFERENCE_ENGINES.items()})
    engines, fallbacks = {}, {}
    for algorithm, candidates in (PORTABLE_ENGINES if name == "portable" else NATIVE_ENGINES).items():
        reasons = []
        for cls in candidates:
            try:
                engines[algorithm] = cls()
                break
            except ProviderUnavailable as exc:
                if name == "native":
                    raise ProviderUnavailable(
                        f"指定了 native 密码服务提供者，但本机缺少 {algorithm.upper()} 的原生实现："
                        f"{exc.message}", internal=exc.internal) from exc
                reasons.append(exc.message)
        else:
            engines[algorithm] = REFERENCE_ENGINES[algorithm]()
        if reasons:
            fallbacks[algorithm] = "；".join(reasons)
    return Provider(name, fallbacks=fallbacks, **engines)


_lock = threading.Lock()
_active: Provider | None = None


def configured_name() -> str:
    return os.environ.get("HPF_CRYPTO_PROVIDER", "").strip().lower() or "auto"


def active() -> Provider:
    """The process-wide provider (built once, from ``HPF_CRYPTO_PROVIDER``)."""
    global _active
    if _active is None:
        with _lock:
            if _active is None:
                _active = build_provider(configured_name())
    return _active


def activate(name: str) -> Provider:
    """Switch the process-wide provider (start-up from the config file; tests)."""
    global _active
    provider = build_provider(name)
    with _lock:
        _active = provider
    return provider
