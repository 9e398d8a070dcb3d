"""SM2 point arithmetic from the system's OpenSSL libcrypto, through ctypes.

No wheel is needed: it is the libcrypto that Python's own ``hashlib`` and ``ssl`` are
linked against (OpenSSL 1.1.1 and 3.x both have the SM2 curve, NID 1172, unless built
with ``no-sm2``). Only ``EC_POINT_mul`` is used, so the SM2 protocol itself stays in
``hpf.crypto.sm2`` and every provider shares it. Single-scalar products (signing's k·G,
decryption's d·C1) go through OpenSSL's constant-time Montgomery ladder; the double
product of verification (public scalars) through its wNAF with a precomputed base table.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading

NID_SM2 = 1172
POINT_CONVERSION_UNCOMPRESSED = 4
_vp = ctypes.c_void_p


def _find_libcrypto() -> str | None:
    import _hashlib  # noqa: F401 - loads the libcrypto Python itself uses

    try:  # the exact library already mapped into this process (Linux)
        with open("/proc/self/maps", encoding="ascii", errors="replace") as maps:
            for line in maps:
                path = line.rstrip().rsplit(" ", 1)[-1]
                if "libcrypto" in path and path.startswith("/"):
                    return path
    except OSError:
        pass
    return ctypes.util.find_library("crypto")


class LibcryptoSm2:
    """Engine object with ``mul_base``, ``mul`` and ``mul_base_add`` on affine int pairs."""

    def __init__(self, path: str | None = None) -> None:
        path = path or _find_libcrypto()
        if not path:
            raise OSError("libcrypto not found")
        lib = ctypes.CDLL(path)
        self.path = path
        for name, restype, argtypes in (
            ("EC_GROUP_new_by_curve_name", _vp, [ctypes.c_int]),
            ("EC_GROUP_precompute_mult", ctypes.c_int, [_vp, _vp]),
            ("EC_POINT_new", _vp, [_vp]),
            ("EC_POINT_free", None, [_vp]),
            ("EC_POINT_oct2point", ctypes.c_int, [_vp, _vp, ctypes.c_char_p, ctypes.c_size_t, _vp]),
            ("EC_POINT_point2oct", ctypes.c_size_t,
             [_vp, _vp, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, _vp]),
            ("EC_POINT_mul", ctypes.c_int, [_vp, _vp, _vp, _vp, _vp, _vp]),
            ("EC_POINT_is_at_infinity", ctypes.c_int, [_vp, _vp]),
            ("BN_bin2bn", _vp, [ctypes.c_char_p, ctypes.c_int, _vp]),
            ("BN_clear_free", None, [_vp]),
            ("BN_CTX_new", _vp, []),
            ("BN_CTX_free", None, [_vp]),
        ):
            fn = getattr(lib, name)  # AttributeError: not an OpenSSL libcrypto
            fn.restype, fn.argtypes = restype, argtypes
        self._lib = lib
        self._group = lib.EC_GROUP_new_by_curve_name(NID_SM2)
        if not self._group:
            raise OSError("this libcrypto has no SM2 curve")
        ctx = lib.BN_CTX_new()
        try:
            lib.EC_GROUP_precompute_mult(self._group, ctx)
        finally:
            lib.BN_CTX_free(ctx)
        self._local = threading.local()  # a BN_CTX is not thread-safe: one per thread

    def _ctx(self):
        ctx = getattr(self._local, "ctx", None)
        if ctx is None:
            ctx = self._local.ctx = self._lib.BN_CTX_new()
        return ctx

    def _run(self, k1: int | None, k2: int | None, point: tuple[int, int] | None):
        lib, group, ctx = self._lib, self._group, self._ctx()
        b1 = lib.BN_bin2bn(k1.to_bytes(32, "big"), 32, None) if k1 is not None else None
        b2 = lib.BN_bin2bn(k2.to_bytes(32, "big"), 32, None) if k2 is not None else None
        q = r = None
        try:
            if point is not None:
                q = lib.EC_POINT_new(group)
                raw = b"\x04" + point[0].to_bytes(32, "big") + point[1].to_bytes(32, "big")
                if lib.EC_POINT_oct2point(group, q, raw, 65, ctx) != 1:
                    raise ValueError("point not on the SM2 curve")
            r = lib.EC_POINT_new(group)
            if lib.EC_POINT_mul(group, r, b1, q, b2, ctx) != 1:
                raise ValueError("EC_POINT_mul failed")
            if lib.EC_POINT_is_at_infinity(group, r):
                return None
            buf = ctypes.create_string_buffer(65)
            if lib.EC_POINT_point2oct(group, r, POINT_CONVERSION_UNCOMPRESSED, buf, 65, ctx) != 65:
                raise ValueError("EC_POINT_point2oct failed")
            raw = buf.raw
            return int.from_bytes(raw[1:33], "big"), int.from_bytes(raw[33:65], "big")
        finally:
            for bn in (b1, b2):
                if bn:
                    lib.BN_clear_free(bn)  # scalars may be secret (k, d)
            for p in (q, r):
                if p:
                    lib.EC_POINT_free(p)

    def mul_base(self, k: int):
        from hpf.crypto._ec import N

        k %= N
        return self._run(k, None, None) if k else None

    def mul(self, k: int, point):
        from hpf.crypto._ec import N

        k %= N
        if not k or point is None:
            return None
        return self._run(None, k, point)

    def mul_base_add(self, u1: int, u2: int, point):
        from hpf.crypto._ec import N

        u1, u2 = u1 % N, u2 % N
        if point is None or not u2:
            return self.mul_base(u1)
        return self._run(u1, u2, point)
