"""Known-answer self-tests, run before the server or the scheduler serves anything.

Like a crypto module's power-on self-test: every algorithm of the active provider must
reproduce the published vectors (GB/T 32905 SM3, GB/T 32907 SM4, GB/T 32918 SM2, RFC 8998
SM4-GCM) or the process refuses to start. ``full`` adds the 1,000,000-iteration SM4 test.

``HPF_CRYPTO_SELFTEST_SIMULATE_FAILURE=<check name>`` corrupts one expected value, so an
operator or a compliance tester can watch the refusal happen (as FIPS 140 labs require
of a module's self-test).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from hpf.crypto import core, sm2
from hpf.crypto.errors import CryptoError, SelfTestFailed
from hpf.crypto.providers import Provider, active

SIMULATE_ENV = "HPF_CRYPTO_SELFTEST_SIMULATE_FAILURE"
SM4_KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")
SM2_D = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
SM2_P = ("09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
         "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13")
SM2_K = 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21
SM2_Z = "b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3"
SM2_E = "f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640"
SM2_R = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
SM2_S = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
# C1 = 04 ‖ x ‖ y; x itself begins with the byte 04 (CRYPTO_VECTORS.md prints x and y only).
SM2_C1 = ("04" "04EBFC718E8D1798620432268E77FEB6415E2EDE0E073C0F4F640ECD2E149A73"
          "E858F9D81E5430A57B36DAAB8F950A3C64E6EE6A63094D99283AFF767E124DF0")
SM2_C3 = "59983C18F809E262923C53AEC295D30383B54E39D609D160AFCB1908D0BD8766"
SM2_C2 = "21886CA989CA9C7D58087307CA93092D651EFA"
GCM = {  # RFC 8998, A.1 (SM4-GCM)
    "key": "0123456789ABCDEFFEDCBA9876543210", "iv": "00001234567800000000ABCD",
    "aad": "FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2",
    "pt": "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
          "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
    "ct": "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
          "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D",
    "tag": "83DE3541E4C2B58177E065A9BF7B62EC",
}


@dataclass(frozen=True)
class Result:
    name: str
    algorithm: str
    standard: str
    passed: bool
    seconds: float
    error: str = ""  # the kind of failure, never key or data bytes


def _checks(p: Provider, full: bool) -> list[tuple[str, str, str, Callable[[], bytes | bool], bytes | bool]]:
    key = sm2.SM2PrivateKey(SM2_D)
    pub = sm2.SM2PublicKey.from_hex(SM2_P)
    msg, text = b"message digest", b"encryption standard"
    std_sig = sm2.encode_signature(int(SM2_R, 16), int(SM2_S, 16), "der")
    std_ct = bytes.fromhex(SM2_C1 + SM2_C3 + SM2_C2)
    g = {k: bytes.fromhex(v) for k, v in GCM.items()}
    checks = [
        ("sm3-abc", "SM3", "GB/T 32905-2016 A.1", lambda: core.sm3(b"abc", provider=p),
         bytes.fromhex("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")),
        ("sm3-abcd16", "SM3", "GB/T 32905-2016 A.2", lambda: core.sm3(b"abcd" * 16, provider=p),
         bytes.fromhex("debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732")),
        ("hmac-sm3", "HMAC-SM3", "RFC 2104 / GB/T 15852.2", lambda: core.hmac_sm3(b"key", b"abc", provider=p),
         bytes.fromhex("28e63256e7c5a087b1f073265dc53092163f7b82729735d06f28f10af9d52393")),
        ("sm4-ecb", "SM4", "GB/T 32907-2016 A.1", lambda: core.sm4_ecb_encrypt(SM4_KEY, SM4_KEY, provider=p),
         bytes.fromhex("681edf34d206965e86b3e94f536e4246")),
        ("sm4-ecb-decrypt", "SM4", "GB/T 32907-2016 A.1",
         lambda: core.sm4_ecb_decrypt(SM4_KEY, bytes.fromhex("681edf34d206965e86b3e94f536e4246"), provider=p),
         SM4_KEY),
        ("sm4-gcm", "SM4-GCM", "RFC 8998 A.1",
         lambda: core.sm4_gcm_encrypt(g["key"], g["iv"], g["pt"], g["aad"], provider=p), g["ct"] + g["tag"]),
        ("sm4-gcm-open", "SM4-GCM", "RFC 8998 A.1",
         lambda: core.sm4_gcm_decrypt(g["key"], g["iv"], g["ct"] + g["tag"], g["aad"], provider=p), g["pt"]),
        ("sm2-public-key", "SM2", "GB/T 32918.5 (密钥对)",
         lambda: sm2.SM2PublicKey(p.sm2.mul_base(SM2_D)).to_bytes(), bytes.fromhex("04" + SM2_P)),
        ("sm2-z", "SM2", "GB/T 32918.2 (Z 值)", lambda: pub.z_value(provider=p), bytes.fromhex(SM2_Z)),
        ("sm2-e", "SM2", "GB/T 32918.2 (e = SM3(Z‖M))", lambda: pub.message_digest(msg, provider=p),
         bytes.fromhex(SM2_E)),
        ("sm2-sign", "SM2", "GB/T 32918.2 签名",
         lambda: key.sign(msg, encoding="raw", provider=p, _k=SM2_K), bytes.fromhex(SM2_R + SM2_S)),
        ("sm2-verify", "SM2", "GB/T 32918.2 验签", lambda: pub.verify(std_sig, msg, provider=p), True),
        ("sm2-verify-reject", "SM2", "GB/T 32918.2 验签（篡改消息）",
         lambda: pub.verify(std_sig, msg + b"!", provider=p), False),
        ("sm2-encrypt", "SM2", "GB/T 32918.4 加密",
         lambda: pub.encrypt(text, provider=p, _k=SM2_K), std_ct),
        ("sm2-decrypt", "SM2", "GB/T 32918.4 解密", lambda: key.decrypt(std_ct, provider=p), text),
    ]
    if full:
        checks.append(("sm4-ecb-1000000", "SM4", "GB/T 32907-2016 A.2", lambda: _sm4_million(p),
                       bytes.fromhex("595298c7c6fd271f0402f804c33d3f66")))
    return checks


def _sm4_million(p: Provider) -> bytes:
    iterate = getattr(p.sm4, "ecb_iterate", None)
    if iterate is not None:
        return iterate(SM4_KEY, SM4_KEY, 1_000_000)
    block = SM4_KEY
    for _ in range(1_000_000):
        block = p.sm4.ecb_encrypt(SM4_KEY, block)
    return block


def run(provider: Provider | None = None, *, full: bool = False) -> list[Result]:
    p = provider or active()
    simulate = os.environ.get(SIMULATE_ENV, "").strip()
    results = []
    for name, algorithm, standard, fn, expected in _checks(p, full):
        if simulate == name:
            expected = not expected if isinstance(expected, bool) else bytes([expected[0] ^ 1]) + expected[1:]
        started = time.perf_counter()
        try:
            got, error = fn(), ""
        except CryptoError as exc:
            got, error = None, type(exc).__name__
        except Exception as exc:  # a broken native library must fail the test, not the process
            got, error = None, type(exc).__name__
        passed = got == expected and type(got) is type(expected)
        if not passed and not error:
            error = "结果与标准值不符"
        results.append(Result(name, algorithm, standard, passed, time.perf_counter() - started, error))
    return results


_passed: set[int] = set()
_lock = threading.Lock()


def require(provider: Provider | None = None) -> list[Result]:
    """Run the self-test once per provider per process; raise SelfTestFailed on any failure."""
    p = provider or active()
    with _lock:
        if id(p) in _passed and not os.environ.get(SIMULATE_ENV):
            return []
        results = run(p)
        failed = [r for r in results if not r.passed]
        if failed:
            names = "、".join(f"{r.name}（{r.error}）" for r in failed)
            raise SelfTestFailed(f"密码算法自检失败，拒绝启动：{names}；密码服务提供者 {p.name}",
                                 details={"failed": [r.name for r in failed]})
        _passed.add(id(p))
        return results
