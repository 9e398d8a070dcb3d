"""Elliptic-curve arithmetic on the SM2 recommended curve sm2p256v1 (GB/T 32918.5).

Pure Python integers, no native code: the SM2 layer must work on every CPU the product
ships on (x86_64, aarch64, loongarch64), including where no native wheel exists. The aim
is speed, so the inner loops are written out by hand with local aliases instead of calling
small helpers (a Python function call costs about as much as a modular multiplication).

Points are affine ``(x, y)`` tuples of ints; the point at infinity is ``None``. Inside the
module points are Jacobian ``(X, Y, Z)`` with x = X/Z², y = Y/Z³, and Z == 0 meaning
infinity, so that a point addition needs no modular inversion.

* ``mul_base`` (k·G) uses a table built once, lazily and under a lock (about 0.1 s and
  1.5 MB): for each of the 32 bytes of k a row of the 255 affine multiples d·2^(8i)·G, so
  k·G is at most 32 mixed additions and no doubling at all. These additions run in XYZZ
  coordinates (x = X/ZZ, y = Y/ZZZ), one multiplication cheaper than Jacobian when there
  is no doubling to pay for.
* ``mul`` (k·Q) uses a width-5 NAF: the odd multiples ±Q … ±15Q are made affine with one
  batch (Montgomery-trick) inversion, then about 256 doublings (the a = −3 formula) and
  about 43 mixed Jacobian + affine additions. The odd multiples of the last 64 points are
  cached (a service verifies with the same few public keys over and over).
* ``mul_base_add`` (u1·G + u2·Q, for SM2 verification) runs the wNAF part for u2·Q, then
  adds the fixed-base rows for u1 straight into that accumulator: the doublings are only
  the ones u2·Q needs, and one inversion at the end. (Interleaving u1 into the doubling
  chain as a second wNAF would cost about as many additions and be more code.)

The doublings dominate: about 70 % of a ``mul`` is 256 × (8 multiplications and 7
reductions mod p); CPython's ``%`` on a 512-bit number costs more than the multiplication.

SECURITY NOTE: Python integer arithmetic is not constant-time. Big-int multiplication,
reduction and ``pow(x, -1, p)`` take time that depends on the values, and the table and
wNAF lookups depend on the scalar bits, so this code leaks timing (and cache) information
about scalars. That is acceptable for verification (public data) and for keys the
deployment accepts to keep in software; keys that need side-channel resistance belong in
a hardware crypto device (GM/T 0018 SDF), not in this module.
"""

from __future__ import annotations

import threading
from functools import lru_cache

__all__ = [
    "GX",
    "GY",
    "A",
    "B",
    "G",
    "N",
    "P",
    "add",
    "decompress",
    "is_on_curve",
    "mul",
    "mul_base",
    "mul_base_add",
]

P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = P - 3
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0
G = (GX, GY)

_SQRT_EXP = (P + 1) // 4  # p ≡ 3 (mod 4): a square root of v is v^((p+1)/4), if v has one

_WNAF_W = 5  # window width for a variable base: 8 precomputed points, ~256/6 additions
_WINDOW_BITS = 8  # fixed base: one table row per byte of the scalar
_WINDOWS = 32  # 32 bytes cover any k < N < 2^256


# --------------------------------------------------------------------------- affine API


def is_on_curve(point: tuple[int, int]) -> bool:
    """True when ``point`` is an affine point of the curve with coordinates in [0, p)."""
    try:
        x, y = point
    except (TypeError, ValueError):
        return False
    if type(x) is not int or type(y) is not int:  # also rejects bool
        return False
    if not (0 <= x < P and 0 <= y < P):
        return False
    return (y * y - (x * x % P - 3) * x - B) % P == 0


def add(p1: tuple[int, int] | None, p2: tuple[int, int] | None) -> tuple[int, int] | None:
    """Affine point addition (one inversion); handles infinity, P + P and P + (−P)."""
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    p = P
    x1, y1 = p1
    x2, y2 = p2
    if x1 == x2:
        if (y1 + y2) % p == 0:  # P + (−P), and doubling a point with y = 0
            return None
        lam = (3 * x1 * x1 - 3) * pow(2 * y1, -1, p) % p  # tangent; a = −3
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, p) % p
    x3 = (lam * lam - x1 - x2) % p
    return x3, (lam * (x1 - x3) - y1) % p


def decompress(x: int, y_odd: bool) -> tuple[int, int] | None:
    """The point with abscissa ``x`` and the given parity of y, or None if there is none."""
    p = P
    if not 0 <= x < p:
        return None
    v = ((x * x - 3) * x + B) % p
    y = pow(v, _SQRT_EXP, p)
    if y * y % p != v:  # v is not a quadratic residue: x is not on the curve
        return None
    if (y & 1) != bool(y_odd):
        if y == 0:  # 0 has no odd twin; cannot happen anyway: n is odd, no point of order 2
            return None
        y = p - y
    return x, y


# ----------------------------------------------------------------- scalar multiplication


def mul_base(k: int) -> tuple[int, int] | None:
    """k·G for any integer k (reduced mod n); None when k ≡ 0 (mod n)."""
    k %= N
    if not k:
        return None
    return _xyzz_to_affine(*_add_base_multiple(k, 1, 1, 0, 0))


def mul(k: int, point: tuple[int, int] | None) -> tuple[int, int] | None:
    """k·Q for a point Q on the curve (``None`` = infinity gives None).

    Raises ValueError when ``point`` is not on the curve: arithmetic on an off-curve point
    is an invalid-curve attack waiting to happen, and the check costs about 1 µs.
    """
    if point is None:
        return None
    if not is_on_curve(point):
        raise ValueError("point is not on the SM2 curve")
    k %= N
    if not k:
        return None
    return _to_affine(*_wnaf_mul(k, point[0], point[1]))


def mul_base_add(u1: int, u2: int, point: tuple[int, int] | None) -> tuple[int, int] | None:
    """u1·G + u2·Q (the SM2 verification step); None when the sum is infinity.

    Raises ValueError when ``point`` is not on the curve (``None`` counts as infinity).
    """
    u1 %= N
    if point is None:
        return mul_base(u1)
    if not is_on_curve(point):
        raise ValueError("point is not on the SM2 curve")
    u2 %= N
    if not u2:
        return mul_base(u1)
    x, y, z = _wnaf_mul(u2, point[0], point[1])
    if not u1:
        return _to_affine(x, y, z)
    p = P
    zz = z * z % p  # Jacobian → XYZZ for the fixed-base additions
    return _xyzz_to_affine(*_add_base_multiple(u1, x, y, zz, zz * z % p))


# ---------------------------------------------------------------- coordinate internals


def _to_affine(x: int, y: int, z: int) -> tuple[int, int] | None:
    if not z:
        return None
    p = P
    zi = pow(z, -1, p)
    zi2 = zi * zi % p
    return x * zi2 % p, y * zi2 % p * zi % p


def _xyzz_to_affine(x: int, y: int, zz: int, zzz: int) -> tuple[int, int] | None:
    if not zz:
        return None
    p = P
    inv = pow(zz * zzz % p, -1, p)  # 1/ZZ = inv·ZZZ and 1/ZZZ = inv·ZZ: one inversion
    return x * (inv * zzz % p) % p, y * (inv * zz % p) % p


def _jdbl(x: int, y: int, z: int) -> tuple[int, int, int]:
    """Jacobian doubling, a = −3 (dbl-2001-b, 3M + 5S). Z == 0 stays 0 (infinity)."""
    p = P
    delta = z * z % p
    gamma = y * y % p
    beta = x * gamma % p
    alpha = 3 * (x - delta) * (x + delta) % p  # 3X² + aZ⁴ with a = −3
    x3 = (alpha * alpha - 8 * beta) % p
    return x3, (alpha * (4 * beta - x3) - 8 * gamma * gamma) % p, 2 * y * z % p


def _jadd_affine(x: int, y: int, z: int, x2: int, y2: int) -> tuple[int, int, int]:
    """(X, Y, Z) + (x2, y2), mixed Jacobian + affine, every special case handled.

    Used where speed does not matter (table building); the hot loops inline the same code.
    """
    if not z:
        return x2, y2, 1
    p = P
    zz = z * z % p
    h = (x2 * zz - x) % p
    r = (y2 * zz % p * z - y) % p
    if not h:
        if not r:  # same point: the addition formula divides by zero, double instead
            return _jdbl(x2, y2, 1)
        return 1, 1, 0  # opposite points
    hh = h * h % p
    hhh = h * hh % p
    v = x * hh % p
    x3 = (r * r - hhh - 2 * v) % p
    return x3, (r * (v - x3) - y * hhh) % p, z * h % p


def _batch_inverse(values: list[int]) -> list[int]:
    """Inverses mod p of nonzero values with one ``pow`` (Montgomery's trick)."""
    p = P
    prefix = []
    acc = 1
    for v in values:
        prefix.append(acc)
        acc = acc * v % p
    inv = pow(acc, -1, p)
    out = [0] * len(values)
    for i in range(len(values) - 1, -1, -1):
        out[i] = inv * prefix[i] % p
        inv = inv * values[i] % p
    return out


# ----------------------------------------------------------------------- variable base


def _wnaf(k: int) -> list[tuple[int, int]]:
    """Width-5 NAF of k > 0 as (bit position, odd digit in ±1..±15), lowest first.

    Runs of zero digits are skipped with one shift instead of one loop turn per bit.
    """
    width = 1 << _WNAF_W
    half = width >> 1
    mask = width - 1
    w = _WNAF_W
    out = []
    pos = 0
    while k:
        tz = (k & -k).bit_length() - 1
        k >>= tz
        pos += tz
        d = k & mask
        if d >= half:
            d -= width
        out.append((pos, d))
        k = (k - d) >> w  # k - d ≡ 0 mod 2^w: the next w - 1 digits are zero
        pos += w
    return out


@lru_cache(maxsize=64)
def _odd_multiples(qx: int, qy: int) -> tuple[tuple[int, int], ...]:
    """Affine ±Q, ±3Q … ±15Q in a 32-slot tuple indexed by the signed digit.

    Slot d holds d·Q for d = 1, 3 … 15 and slot 32 − d (that is, index −d) holds −d·Q, so
    the wNAF loop looks a digit up with ``tab[d]`` whatever its sign.

    Co-Z trick to spare one inversion: with 2Q = (X2, Y2, Z) Jacobian, scaling every point
    by Z (x → x·Z², y → y·Z³) maps the curve to an isomorphic one where 2Q is the affine
    point (X2, Y2) and Q is (qx·Z², qy·Z³). The addition formula does not involve a, so the
    odd multiples are built there with mixed additions; a result (X, Y, z') on that curve is
    (X, Y, z'·Z) on ours. One batch inversion then makes all of them affine.

    Cached per point (about 6 % of a verification): a service mostly verifies with the same
    few public keys. Bounded, keyed by public data only; lru_cache is thread-safe.
    """
    p = P
    tx, ty, z0 = _jdbl(qx, qy, 1)  # 2Q; z0 = 2·qy ≠ 0 (no point of order 2)
    zz0 = z0 * z0 % p
    x, y, z = qx * zz0 % p, qy * zz0 % p * z0 % p, 1  # Q on the scaled curve
    jac = []
    for _ in range((1 << (_WNAF_W - 2)) - 1):  # 3Q, 5Q … 15Q; never ±2Q (Q has prime order)
        x, y, z = _jadd_affine(x, y, z, tx, ty)
        jac.append((x, y, z * z0 % p))
    invs = _batch_inverse([j[2] for j in jac])
    tab: list[tuple[int, int]] = [(0, 0)] * (1 << _WNAF_W)
    tab[1] = (qx, qy)
    tab[-1] = (qx, p - qy)
    for i, ((x, y, _), zi) in enumerate(zip(jac, invs, strict=True)):
        zi2 = zi * zi % p
        ax = x * zi2 % p
        ay = y * zi2 % p * zi % p
        d = 2 * i + 3
        tab[d] = (ax, ay)
        tab[-d] = (ax, p - ay)
    return tuple(tab)


def _wnaf_mul(k: int, qx: int, qy: int) -> tuple[int, int, int]:
    """Jacobian k·Q for k > 0 (callers pass 0 < k < n); Q affine on the curve."""
    p = P
    tab = _odd_multiples(qx, qy)
    naf = _wnaf(k)
    pos, d = naf.pop()  # top digit: load it, no addition needed
    x, y = tab[d]
    z = 1
    while naf:
        npos, d = naf.pop()
        for _ in range(pos - npos):
            # doubling, a = −3 (dbl-2001-b); Z == 0 (infinity) stays 0
            delta = z * z % p
            gamma = y * y % p
            beta = x * gamma % p
            alpha = 3 * (x - delta) * (x + delta) % p
            z = 2 * y * z % p
            x = (alpha * alpha - 8 * beta) % p
            y = (alpha * (4 * beta - x) - 8 * gamma * gamma) % p
        pos = npos
        x2, y2 = tab[d]
        if not z:  # at infinity: only reachable with an unreduced k ≥ n, kept for safety
            x, y, z = x2, y2, 1
            continue
        # mixed addition (X, Y, Z) + (x2, y2)
        zz = z * z % p
        h = (x2 * zz - x) % p
        r = (y2 * zz % p * z - y) % p
        if not h:
            # k close to n can make the accumulator equal ±(x2, y2): e.g. k = n − 6 ends
            # with −3Q + (−3Q); the general formula would give 0/0, so branch out.
            x, y, z = _jdbl(x2, y2, 1) if not r else (1, 1, 0)
            continue
        hh = h * h % p
        hhh = h * hh % p
        v = x * hh % p
        x = (r * r - hhh - 2 * v) % p
        y = (r * (v - x) - y * hhh) % p
        z = z * h % p
    for _ in range(pos):  # trailing zero digits
        x, y, z = _jdbl(x, y, z)
    return x, y, z


# -------------------------------------------------------------------------- fixed base

_base_table_cache: list[list[tuple[int, int]]] | None = None
_base_table_lock = threading.Lock()


def _build_base_table() -> list[list[tuple[int, int]]]:
    """Row i holds d·2^(8i)·G for d = 0 … 255 (slot 0 unused), all affine.

    Per row: the multiples 2B … 256B of the row base B by one doubling and mixed
    additions, then one batch inversion for the row; 256B is the next row's base.
    32 rows × 256 points, about 1.5 MB of ints.
    """
    p = P
    table = []
    bx, by = GX, GY
    for _ in range(_WINDOWS):
        jac = [_jdbl(bx, by, 1)]
        x, y, z = jac[0]
        for _ in range((1 << _WINDOW_BITS) - 2):  # 3B … 256B
            x, y, z = _jadd_affine(x, y, z, bx, by)
            jac.append((x, y, z))
        invs = _batch_inverse([j[2] for j in jac])
        row = [(0, 0), (bx, by)]
        for (x, y, _), zi in zip(jac, invs, strict=True):
            zi2 = zi * zi % p
            row.append((x * zi2 % p, y * zi2 % p * zi % p))
        bx, by = row.pop()  # 256·B = 2^8·B
        table.append(row)
    return table


def _base_table() -> list[list[tuple[int, int]]]:
    # Double-checked locking: the fast path is one global read; the lock makes sure that
    # threads racing on first use build the table once and all see the finished table.
    global _base_table_cache
    table = _base_table_cache
    if table is None:
        with _base_table_lock:
            table = _base_table_cache
            if table is None:
                table = _base_table_cache = _build_base_table()
    return table


def _add_base_multiple(k: int, x: int, y: int, zz: int, zzz: int) -> tuple[int, int, int, int]:
    """XYZZ (X, Y, ZZ, ZZZ) + k·G for 0 < k < n: one table point per nonzero byte of k.

    The fixed-base additions never meet a doubling, so they use XYZZ coordinates
    (x = X/ZZ, y = Y/ZZZ, ZZ³ = ZZZ²): a mixed addition there (madd-2008-s) saves one
    multiplication and one reduction over Jacobian, about 10 % of a k·G.
    """
    p = P
    table = _base_table_cache or _base_table()
    for row, d in zip(table, k.to_bytes(_WINDOWS, "little"), strict=True):
        if not d:
            continue
        x2, y2 = row[d]
        if not zz:  # accumulator at infinity: take the point as it is
            x, y, zz, zzz = x2, y2, 1, 1
            continue
        h = (x2 * zz - x) % p
        r = (y2 * zzz - y) % p
        if not h:
            # For k·G alone the partial sums are distinct multiples below n, so this never
            # happens; in u1·G + u2·Q the accumulator starts at u2·Q and can meet ±(x2, y2).
            if r:
                x, y, zz, zzz = 1, 1, 0, 0
            else:
                x, y, z = _jdbl(x2, y2, 1)
                zz = z * z % p
                zzz = zz * z % p
            continue
        hh = h * h % p
        hhh = h * hh % p
        v = x * hh % p
        x = (r * r - hhh - 2 * v) % p
        y = (r * (v - x) - y * hhh) % p
        zz = zz * hh % p
        zzz = zzz * hhh % p
    return x, y, zz, zzz
