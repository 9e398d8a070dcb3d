"""SM2 curve arithmetic (hpf.crypto._ec) against a naive affine double-and-add reference.

The reference below re-states the curve from GB/T 32918.5 on its own (it does not import the
module's constants) and uses the textbook affine formulas with one inversion per step: slow
but obviously right. Scalars come from seeded ``random.Random`` instances, so a failure
reproduces.
"""

from __future__ import annotations

import random
import threading

import pytest

from hpf.crypto import _ec

# ------------------------------------------------------------------ reference arithmetic

RP = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
RA = RP - 3
RB = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
RN = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
RG = (0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7,
      0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0)

# GB/T 32918 example key pair: d·G
VECTOR_D = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
VECTOR_Q = (0x09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020,
            0xCCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13)


def ref_on_curve(pt):
    x, y = pt
    return (y * y - x * x * x - RA * x - RB) % RP == 0


def ref_neg(pt):
    return None if pt is None else (pt[0], (-pt[1]) % RP)


def ref_add(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2 and (y1 + y2) % RP == 0:
        return None
    # tangent when doubling, chord otherwise
    num, den = (3 * x1 * x1 + RA, 2 * y1) if p1 == p2 else (y2 - y1, x2 - x1)
    lam = num * pow(den, -1, RP) % RP
    x3 = (lam * lam - x1 - x2) % RP
    return x3, (lam * (x1 - x3) - y1) % RP


def ref_mul(k, pt):
    """k·pt by right-to-left double-and-add over the full k (no reduction mod n)."""
    result = None
    while k:
        if k & 1:
            result = ref_add(result, pt)
        pt = ref_add(pt, pt)
        k >>= 1
    return result


def random_point(rng):
    return ref_mul(rng.randrange(1, RN), RG)


# a few scalars that exercise window and digit boundaries
EDGE_SCALARS = [1, 2, 3, 15, 16, 17, 31, 32, 33, 255, 256, 257, 0xFFFF, 1 << 128, (1 << 248) * 255,
                (1 << 256) - 1, RN - 1, RN - 2, RN - 3, RN - 6, RN + 1, RN + 7, 2 * RN + 5, RN * 3 - 1]


# ---------------------------------------------------------------------------- constants


def test_constants_and_standard_vector():
    assert (_ec.P, _ec.A, _ec.B, _ec.N, _ec.G) == (RP, RA, RB, RN, RG)
    assert (_ec.GX, _ec.GY) == RG
    assert ref_on_curve(RG)
    assert ref_mul(VECTOR_D, RG) == VECTOR_Q  # the reference agrees with the standard
    assert _ec.mul_base(VECTOR_D) == VECTOR_Q
    assert _ec.mul(VECTOR_D, RG) == VECTOR_Q
    assert _ec.mul_base_add(VECTOR_D, 0, RG) == VECTOR_Q
    assert _ec.mul_base_add(0, VECTOR_D, RG) == VECTOR_Q
    assert _ec.mul_base_add(VECTOR_D - 5, 5, RG) == VECTOR_Q


def test_order_n_gives_infinity():
    assert ref_mul(RN, RG) is None
    assert _ec.mul_base(RN) is None
    assert _ec.mul_base(0) is None
    assert _ec.mul_base(5 * RN) is None
    q = VECTOR_Q
    assert _ec.mul(RN, q) is None
    assert _ec.mul(0, q) is None
    assert _ec.mul_base_add(0, 0, q) is None
    assert _ec.mul_base_add(RN, 2 * RN, q) is None


# --------------------------------------------------------------------------- is_on_curve


def test_is_on_curve_accepts_curve_points():
    rng = random.Random(11)
    assert _ec.is_on_curve(RG)
    assert _ec.is_on_curve(VECTOR_Q)
    for _ in range(5):
        assert _ec.is_on_curve(random_point(rng))


def test_is_on_curve_rejects_off_curve_and_out_of_range():
    gx, gy = RG
    assert not _ec.is_on_curve((gx, gy + 1))
    assert not _ec.is_on_curve((gx + 1, gy))
    assert not _ec.is_on_curve((0, 0))
    # congruent to G mod p but not reduced: must be rejected, not silently reduced
    assert not _ec.is_on_curve((gx + RP, gy))
    assert not _ec.is_on_curve((gx, gy + RP))
    assert not _ec.is_on_curve((gx - RP, gy))
    assert not _ec.is_on_curve((gx, gy - RP))
    assert not _ec.is_on_curve((RP, 0))
    for junk in (None, (), (gx,), (gx, gy, 1), "xy", (float(gx), gy), (True, 1)):
        assert not _ec.is_on_curve(junk)


def test_operations_refuse_points_off_the_curve():
    bad = (RG[0], RG[1] + 1)
    with pytest.raises(ValueError):
        _ec.mul(5, bad)
    with pytest.raises(ValueError):
        _ec.mul_base_add(5, 7, bad)
    with pytest.raises(ValueError):
        _ec.mul(5, (RG[0] + RP, RG[1]))
    # infinity as the variable point is accepted: k·O = O, u1·G + u2·O = u1·G
    assert _ec.mul(5, None) is None
    assert _ec.mul_base_add(5, 7, None) == ref_mul(5, RG)


# ---------------------------------------------------------------------------------- add


def test_add_against_reference():
    rng = random.Random(21)
    p1, p2 = random_point(rng), random_point(rng)
    assert _ec.add(p1, p2) == ref_add(p1, p2)
    assert _ec.add(p1, p1) == ref_add(p1, p1)  # doubling
    assert _ec.add(p1, ref_neg(p1)) is None  # inverse
    assert _ec.add(None, p1) == p1
    assert _ec.add(p1, None) == p1
    assert _ec.add(None, None) is None
    assert _ec.add(RG, RG) == ref_mul(2, RG)
    assert _ec.add(ref_mul(2, RG), RG) == ref_mul(3, RG)


# ----------------------------------------------------------------------------- mul_base


def test_mul_base_random_scalars():
    rng = random.Random(31)
    for _ in range(12):
        k = rng.randrange(1, RN)
        assert _ec.mul_base(k) == ref_mul(k, RG), hex(k)


def test_mul_base_sparse_and_byte_patterned_scalars():
    # only a few nonzero bytes, or single bytes at every position: every table row is used
    rng = random.Random(32)
    for i in range(32):
        k = rng.randrange(1, 256) << (8 * i)
        assert _ec.mul_base(k) == ref_mul(k % RN, RG), hex(k)


def test_mul_base_edge_scalars():
    for k in EDGE_SCALARS:
        assert _ec.mul_base(k) == ref_mul(k % RN, RG), hex(k)
    assert _ec.mul_base(RN - 1) == ref_neg(RG)
    assert _ec.mul_base(RN + 1) == RG
    assert _ec.mul_base(-1) == ref_neg(RG)  # negative k reduces mod n too


# ---------------------------------------------------------------------------------- mul


def test_mul_random_scalars_and_points():
    rng = random.Random(41)
    for _ in range(6):
        q = random_point(rng)
        k = rng.randrange(1, RN)
        assert _ec.mul(k, q) == ref_mul(k, q), hex(k)


def test_mul_edge_scalars():
    q = VECTOR_Q
    for k in EDGE_SCALARS:
        kk = k % RN
        # (n − j)·Q = −(j·Q): keeps the reference cheap for scalars just below n
        expected = ref_neg(ref_mul(RN - kk, q)) if kk > RN // 2 else ref_mul(kk, q)
        assert _ec.mul(k, q) == expected, hex(k)


def test_mul_scalars_just_below_n():
    # k close to n drives the wNAF accumulator onto ±(the point being added), which needs
    # the doubling / infinity branch of the addition; k = n − j ⇒ k·Q = −(j·Q)
    rng = random.Random(42)
    q = random_point(rng)
    multiples = [None]
    for _ in range(64):
        multiples.append(ref_add(multiples[-1], q))
    for j in range(1, 64):
        assert _ec.mul(RN - j, q) == ref_neg(multiples[j]), j
        assert _ec.mul(j, q) == multiples[j], j


def test_mul_matches_mul_base():
    rng = random.Random(43)
    for _ in range(5):
        k = rng.randrange(1, RN)
        assert _ec.mul(k, RG) == _ec.mul_base(k)


# ------------------------------------------------------------------------- mul_base_add


def test_mul_base_add_random():
    rng = random.Random(51)
    for _ in range(4):
        q = random_point(rng)
        u1, u2 = rng.randrange(1, RN), rng.randrange(1, RN)
        assert _ec.mul_base_add(u1, u2, q) == ref_add(ref_mul(u1, RG), ref_mul(u2, q))


def test_mul_base_add_algebraic_identities():
    # cheap cross-checks over many scalars: u1·G + u2·(c·G) == (u1 + u2·c)·G
    rng = random.Random(52)
    c = rng.randrange(1, RN)
    q = _ec.mul_base(c)
    for _ in range(10):
        u1, u2 = rng.randrange(RN), rng.randrange(RN)
        assert _ec.mul_base_add(u1, u2, q) == _ec.mul_base((u1 + u2 * c) % RN)
        assert _ec.mul_base_add(u1, u2, q) == _ec.add(_ec.mul_base(u1), _ec.mul(u2, q))


def test_mul_base_add_cancelling_to_infinity():
    rng = random.Random(53)
    c = rng.randrange(2, RN)
    q = ref_mul(c, RG)
    for _ in range(3):
        u2 = rng.randrange(1, RN)
        u1 = (-u2 * c) % RN  # u1·G == −u2·Q
        assert _ec.mul_base_add(u1, u2, q) is None
    assert _ec.mul_base_add(1, RN - 1, RG) is None
    assert _ec.mul_base_add(RN - 1, 1, RG) is None


def test_mul_base_add_equal_halves_need_a_doubling():
    rng = random.Random(54)
    c = rng.randrange(2, RN)
    q = ref_mul(c, RG)
    u2 = rng.randrange(1, RN)
    u1 = u2 * c % RN  # u1·G == u2·Q
    assert _ec.mul_base_add(u1, u2, q) == ref_mul(2 * u1, RG)


def test_mul_base_add_collisions_inside_the_fixed_base_additions():
    # With Q = G the accumulator u2·G meets the table point d·G of a single-byte u1:
    # equal points (doubling branch), opposite points (infinity), then more bytes after it.
    assert _ec.mul_base_add(5, 5, RG) == ref_mul(10, RG)
    assert _ec.mul_base_add(5, RN - 5, RG) is None
    assert _ec.mul_base_add(5 + (7 << 8), RN - 5, RG) == ref_mul(7 << 8, RG)
    assert _ec.mul_base_add(5 + (7 << 8), 5, RG) == ref_mul(10 + (7 << 8), RG)
    assert _ec.mul_base_add(3 << 16, 3 << 16, RG) == ref_mul(6 << 16, RG)


def test_mul_base_add_zero_parts():
    rng = random.Random(55)
    q = random_point(rng)
    u = rng.randrange(1, RN)
    assert _ec.mul_base_add(u, 0, q) == _ec.mul_base(u)
    assert _ec.mul_base_add(u, RN, q) == _ec.mul_base(u)
    assert _ec.mul_base_add(0, u, q) == _ec.mul(u, q)
    assert _ec.mul_base_add(RN, u, q) == _ec.mul(u, q)


# --------------------------------------------------------------------------- decompress


def test_decompress_round_trip():
    rng = random.Random(61)
    points = [RG, VECTOR_Q] + [random_point(rng) for _ in range(4)]
    for x, y in points:
        assert _ec.decompress(x, bool(y & 1)) == (x, y)
        assert _ec.decompress(x, not (y & 1)) == (x, RP - y)


def test_decompress_rejects_x_not_on_curve():
    non_residues = [x for x in range(1, 40) if pow((x ** 3 + RA * x + RB) % RP, (RP - 1) // 2, RP) != 1]
    assert non_residues  # about half of all x are not abscissas of curve points
    for x in non_residues:
        assert _ec.decompress(x, False) is None
        assert _ec.decompress(x, True) is None
    assert _ec.decompress(RP + RG[0], True) is None  # out of range
    assert _ec.decompress(-1, True) is None


# ------------------------------------------------------------------------ thread safety


def test_first_use_table_build_from_many_threads(monkeypatch):
    rng = random.Random(71)
    scalars = [rng.randrange(1, RN) for _ in range(3)]
    expected = [_ec.mul_base(k) for k in scalars]  # with the table as built so far

    builds = []
    real_build = _ec._build_base_table

    def counting_build():
        builds.append(threading.get_ident())
        return real_build()

    monkeypatch.setattr(_ec, "_base_table_cache", None)  # back to "never used"
    monkeypatch.setattr(_ec, "_build_base_table", counting_build)

    threads_count = 6
    barrier = threading.Barrier(threads_count)
    results: dict[int, list] = {}
    errors: list[BaseException] = []

    def worker(i):
        try:
            barrier.wait()
            results[i] = [_ec.mul_base(k) for k in scalars]
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert len(builds) == 1
    assert all(results[i] == expected for i in range(threads_count))
    assert expected[0] == ref_mul(scalars[0], RG)


# -------------------------------------------------------------- defensive internal paths


def test_internal_mixed_addition_special_cases():
    # _jadd_affine (table and precomputation builder) must handle what its callers never feed it
    g2 = ref_mul(2, RG)
    assert _ec._to_affine(*_ec._jadd_affine(1, 1, 0, *RG)) == RG  # infinity + G
    assert _ec._to_affine(*_ec._jadd_affine(*RG, 1, *RG)) == g2  # G + G
    assert _ec._to_affine(*_ec._jadd_affine(*RG, 1, *ref_neg(RG))) is None  # G + (−G)
    x, y, z = _ec._jdbl(*RG, 1)
    assert _ec._to_affine(*_ec._jadd_affine(x, y, z, *g2)) == ref_mul(4, RG)  # Z ≠ 1, equal points
    assert _ec._to_affine(*_ec._jdbl(1, 1, 0)) is None  # doubling infinity


def test_internal_wnaf_with_unreduced_scalars_passes_through_infinity():
    # The public functions reduce k mod n first, so the wNAF accumulator never reaches
    # infinity; fed k = n·2^5 + r directly it does, and must recover.
    q = VECTOR_Q
    small = {r: ref_mul(abs(r), q) for r in range(1, 16, 2)}
    for r in range(-15, 16, 2):
        expected = small[r] if r > 0 else ref_neg(small[-r])
        assert _ec._to_affine(*_ec._wnaf_mul((RN << 5) + r, *q)) == expected, r
