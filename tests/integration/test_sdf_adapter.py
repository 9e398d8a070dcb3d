"""The GM/T 0018 (SDF) device adapter, against the software stand-in in tests/fixtures.

The stand-in (tests/fixtures/sdf_standin/sdf_standin.c, NOT secure) is compiled once per
session with the machine's C compiler; without one these tests skip. Its KEKs come from
SDF_STANDIN_KEK_SEED and SDF_STANDIN_FAIL=<function> makes that function return
SDR_HARDFAIL; both are read on every call, so monkeypatch can steer them per test.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import shlex
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from hpf.crypto.errors import DeviceError, DeviceNotConfigured, InvalidCiphertext, InvalidInput
from hpf_adapters.crypto import SdfDevice, open_sdf_device
from hpf_adapters.crypto.sdf import NOT_CONFIGURED, SdfCallError

SOURCE = Path(__file__).resolve().parents[1] / "fixtures" / "sdf_standin" / "sdf_standin.c"
SEED = "hpf-test-seed"


def c_compiler() -> list[str] | None:
    if os.environ.get("CC"):
        cmd = shlex.split(os.environ["CC"])
        if cmd and shutil.which(cmd[0]):
            return cmd
    for name in ("cc", "gcc", "clang"):
        if shutil.which(name):
            return [name]
    return None


@pytest.fixture(scope="session")
def standin(tmp_path_factory) -> str:
    """Path of the compiled stand-in library."""
    cc = c_compiler()
    if cc is None:
        pytest.skip("no C compiler (cc, gcc, clang or $CC) to build the SDF stand-in")
    out = tmp_path_factory.mktemp("sdf_standin") / "libsdf_standin.so"
    build = subprocess.run([*cc, "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-pthread",
                            "-o", str(out), str(SOURCE)], capture_output=True, text=True)
    assert build.returncode == 0, f"building the SDF stand-in failed:\n{build.stderr}"
    return str(out)


@pytest.fixture(scope="session")
def standin_lib(standin):
    """The stand-in's test-only exports (SM4 block, KEK derivation)."""
    lib = ctypes.CDLL(standin)
    lib.standin_sm4_ecb_encrypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p]
    lib.standin_sm4_ecb_encrypt.restype = None
    lib.standin_derive_kek.argtypes = [ctypes.c_uint, ctypes.c_char_p]
    lib.standin_derive_kek.restype = ctypes.c_int
    return lib


@pytest.fixture(autouse=True)
def standin_env(monkeypatch):
    monkeypatch.setenv("SDF_STANDIN_KEK_SEED", SEED)
    monkeypatch.delenv("SDF_STANDIN_FAIL", raising=False)


@pytest.fixture
def device(standin):
    with open_sdf_device(standin) as dev:
        yield dev


def sm4(key: bytes, mode) -> Cipher:
    return Cipher(algorithms.SM4(key), mode)


def reference_unwrap(standin_lib, kek_index: int, blob: bytes) -> bytes:
    """Unwrap with the `cryptography` package's SM4, from the stand-in's KEK: checks the
    blob layout, the KEK wrapping (SM4-ECB) and the data encryption (SM4-CBC) independently."""
    kek = ctypes.create_string_buffer(16)
    assert standin_lib.standin_derive_kek(kek_index, kek) == 0
    key_len = int.from_bytes(blob[1:3], "big")
    wrapped, iv, ciphertext = blob[3:3 + key_len], blob[3 + key_len:19 + key_len], blob[19 + key_len:]
    ecb = sm4(kek.raw, modes.ECB()).decryptor()
    session_key = ecb.update(wrapped) + ecb.finalize()
    cbc = sm4(session_key, modes.CBC(iv)).decryptor()
    return cbc.update(ciphertext) + cbc.finalize()


# ----- the stand-in itself ------------------------------------------------------------------
def test_standin_sm4_matches_the_standard_vector_and_cryptography(standin_lib):
    out = ctypes.create_string_buffer(16)
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    standin_lib.standin_sm4_ecb_encrypt(key, key, out)
    assert out.raw.hex() == "681edf34d206965e86b3e94f536e4246"  # GB/T 32907-2016, A.1
    for _ in range(200):
        key, block = os.urandom(16), os.urandom(16)
        standin_lib.standin_sm4_ecb_encrypt(key, block, out)
        ecb = sm4(key, modes.ECB()).encryptor()
        assert out.raw == ecb.update(block) + ecb.finalize()


# ----- info and random ----------------------------------------------------------------------
def test_device_info_and_lazy_open(device):
    assert not device.is_open
    info = device.info()
    assert device.is_open
    assert info["issuer"] == "HPF Core test stand-in (NOT SECURE)"
    assert info["device_name"] == "SDF-STANDIN"
    assert info["serial"] == "HPF-STANDIN-0001"  # fills all 16 bytes: no NUL terminator
    assert info["device_version"] == 0x00010000
    assert info["standard_version"] == 1
    assert info["sym_alg_ability"] & 0x401 == 0x401
    assert info["asym_alg_ability"] == [0, 0]
    assert info["buffer_size"] == 65536


@pytest.mark.parametrize("n", [0, 1, 16, 1000, 4096, 10_000])
def test_random_lengths(device, n):
    assert len(device.random(n)) == n


def test_random_differs_between_calls(device):
    assert device.random(32) != device.random(32)


@pytest.mark.parametrize("n", [-1, 1.5, True, "16"])
def test_random_rejects_bad_lengths(device, n):
    with pytest.raises(InvalidInput):
        device.random(n)


# ----- wrap / unwrap ------------------------------------------------------------------------
@pytest.mark.parametrize("size", [16, 32])
def test_wrap_unwrap_round_trip(device, standin_lib, size):
    key = os.urandom(size)
    blob = device.wrap(1, key)
    assert blob[0] == 1
    assert int.from_bytes(blob[1:3], "big") == 16  # the stand-in's KEK-encrypted session key
    assert len(blob) == 3 + 16 + 16 + size
    assert key not in blob
    assert device.unwrap(1, blob) == key
    assert device.unwrap(1, bytearray(blob)) == key
    assert reference_unwrap(standin_lib, 1, blob) == key  # SM4-CBC agrees with `cryptography`


def test_each_wrap_uses_a_fresh_session_key_and_iv(device):
    key = os.urandom(32)
    first, second = device.wrap(3, key), device.wrap(3, key)
    assert first != second
    assert first[3:19] != second[3:19]  # encrypted session key
    assert first[19:35] != second[19:35]  # IV
    assert device.unwrap(3, first) == device.unwrap(3, second) == key


def test_unwrap_with_another_kek_yields_different_bytes(device):
    # The format has no integrity check and the stand-in has none either: a wrong KEK index
    # (or a wrong KEK seed) decrypts to garbage rather than failing. The keyring's key check
    # value is what catches this; here we only show that the bytes do not come back.
    key = os.urandom(32)
    blob = device.wrap(1, key)
    garbage = device.unwrap(2, blob)
    assert len(garbage) == len(key)
    assert garbage != key


def test_kek_depends_on_the_seed_and_is_shared_across_processes(device, standin, monkeypatch):
    key = os.urandom(16)
    blob = device.wrap(5, key)
    script = ("import sys; from hpf_adapters.crypto import open_sdf_device\n"
              "with open_sdf_device(sys.argv[1]) as d:\n"
              "    sys.stdout.write(d.unwrap(5, bytes.fromhex(sys.argv[2])).hex())\n")
    env = {**os.environ, "SDF_STANDIN_KEK_SEED": SEED}
    other = subprocess.run([sys.executable, "-c", script, standin, blob.hex()],
                           capture_output=True, text=True, env=env, check=True)
    assert bytes.fromhex(other.stdout) == key
    monkeypatch.setenv("SDF_STANDIN_KEK_SEED", "another seed")
    assert device.unwrap(5, blob) != key


@pytest.mark.parametrize("mangle", [
    lambda b: b"",
    lambda b: b[:1],
    lambda b: b[:3],
    lambda b: b[:3 + 16],
    lambda b: b[:3 + 16 + 16],  # no ciphertext
    lambda b: b[:-1],
    lambda b: b[:-16] + b"\0" * 8,
    lambda b: b + b"\0",
    lambda b: bytes([2]) + b[1:],  # unknown version
    lambda b: b[:1] + b"\0\0" + b[3:],  # empty session key
    lambda b: b[:1] + b"\xff\xff" + b[3:],  # session key longer than the blob
    lambda b: b[:1] + b"\0\x10" + b"\xaa" * 15,
    lambda b: b"\x01\x00\x10" + b"\xaa" * 16 + b"\xbb" * 16 + b"\xcc" * 15,
], ids=["empty", "version-only", "header-only", "no-iv", "no-ciphertext", "minus-1",
        "half-block", "plus-1", "version-2", "zero-key-length", "huge-key-length",
        "short-garbage", "odd-garbage"])
def test_malformed_blobs_are_invalid_ciphertext(device, mangle):
    blob = mangle(device.wrap(1, os.urandom(32)))
    with pytest.raises(InvalidCiphertext) as caught:
        device.unwrap(1, blob)
    assert caught.value.message == "密文格式错误或已被篡改"


@pytest.mark.parametrize("size", [0, 1, 15, 17, 33])
def test_wrap_needs_a_positive_multiple_of_16_bytes(device, size):
    with pytest.raises(InvalidInput) as caught:
        device.wrap(1, os.urandom(size))
    assert f"{size}字节" in caught.value.message


def test_wrap_and_unwrap_check_their_argument_types(device):
    with pytest.raises(TypeError):
        device.wrap(1, "0123456789abcdef")
    with pytest.raises(TypeError):
        device.unwrap(1, None)
    for index in (-1, 2**32, True, "1"):
        with pytest.raises(InvalidInput):
            device.wrap(index, bytes(16))


# ----- device errors ------------------------------------------------------------------------
@pytest.mark.parametrize("index", [0, 17, 2**32 - 1])
def test_missing_kek_index_is_sdr_keynotexist(device, index):
    key = os.urandom(16)
    with pytest.raises(DeviceError) as caught:
        device.wrap(index, key)
    err = caught.value
    assert isinstance(err, SdfCallError)
    assert err.message == "密码设备调用失败：SDF_GenerateKeyWithKEK 返回 SDR_KEYNOTEXIST"
    assert "SDF_GenerateKeyWithKEK" in err.internal and "SDR_KEYNOTEXIST" in err.internal
    assert key.hex() not in f"{err.message}{err.internal}"

    blob = device.wrap(1, key)
    with pytest.raises(DeviceError) as caught:
        device.unwrap(index, blob)
    assert "SDF_ImportKeyWithKEK" in caught.value.internal
    assert "SDR_KEYNOTEXIST" in caught.value.internal


def test_a_failing_encrypt_names_the_function_and_code(device, monkeypatch):
    key = os.urandom(32)
    device.info()  # the session is already open when the failure starts
    monkeypatch.setenv("SDF_STANDIN_FAIL", "SDF_Encrypt")
    with pytest.raises(DeviceError) as caught:
        device.wrap(1, key)
    err = caught.value
    assert err.message == "密码设备调用失败：SDF_Encrypt 返回 SDR_HARDFAIL"
    assert "SDF_Encrypt" in err.internal and "SDR_HARDFAIL" in err.internal
    assert "0x01000004" in err.internal
    assert key.hex() not in f"{err.message}{err.internal}"
    assert err.code == "crypto_device_error"
    assert not device.is_open  # a hardware failure drops the session ...
    monkeypatch.delenv("SDF_STANDIN_FAIL")
    assert device.unwrap(1, device.wrap(1, key)) == key  # ... and the next call reopens it


@pytest.mark.parametrize("function, operation", [
    ("SDF_OpenDevice", lambda d: d.info()),
    ("SDF_OpenSession", lambda d: d.info()),
    ("SDF_GetDeviceInfo", lambda d: d.info()),
    ("SDF_GenerateRandom", lambda d: d.random(8)),
    ("SDF_GenerateRandom", lambda d: d.wrap(1, bytes(16))),
    ("SDF_GenerateKeyWithKEK", lambda d: d.wrap(1, bytes(16))),
    ("SDF_ImportKeyWithKEK", lambda d: d.unwrap(1, b"\x01\x00\x10" + bytes(48))),
    ("SDF_Decrypt", lambda d: d.unwrap(1, b"\x01\x00\x10" + bytes(48))),
])
def test_every_call_maps_its_error(device, monkeypatch, function, operation):
    monkeypatch.setenv("SDF_STANDIN_FAIL", f"SDF_Nothing,{function}")
    with pytest.raises(SdfCallError) as caught:
        operation(device)
    assert caught.value.function == function
    assert caught.value.sdr == "SDR_HARDFAIL"
    assert caught.value.message == f"密码设备调用失败：{function} 返回 SDR_HARDFAIL"
    monkeypatch.delenv("SDF_STANDIN_FAIL")
    device.info()


def test_a_failing_destroy_key_is_logged_not_raised(device, monkeypatch, caplog):
    key = os.urandom(16)
    monkeypatch.setenv("SDF_STANDIN_FAIL", "SDF_DestroyKey")
    with caplog.at_level(logging.WARNING, logger="hpf.crypto.sdf"):
        blob = device.wrap(1, key)
        assert device.unwrap(1, blob) == key
    assert sum("SDF_DestroyKey returned SDR_HARDFAIL" in r.getMessage() for r in caplog.records) == 2
    assert all(key.hex() not in r.getMessage() for r in caplog.records)


def test_a_closed_device_refuses_work(standin):
    dev = open_sdf_device(standin)
    blob = dev.wrap(1, bytes(16))
    dev.close()
    dev.close()
    with pytest.raises(DeviceError, match="已关闭"):
        dev.unwrap(1, blob)


# ----- configuration and loading ------------------------------------------------------------
@pytest.mark.parametrize("library", [None, "", "   "])
def test_no_library_configured(library):
    with pytest.raises(DeviceNotConfigured) as caught:
        open_sdf_device(library)
    assert caught.value.message == NOT_CONFIGURED
    assert NOT_CONFIGURED == ("未配置密码设备（SDF）：请在配置文件 [crypto] sdf_library 中"
                              "填写厂商提供的 SDF 动态库路径")


def test_a_missing_library_file(tmp_path):
    path = str(tmp_path / "no-such" / "libsdf.so")
    with pytest.raises(DeviceNotConfigured) as caught:
        open_sdf_device(path)
    assert path in caught.value.message
    assert "不存在" in caught.value.message


def test_a_file_that_is_not_a_library(tmp_path):
    path = tmp_path / "libsdf.so"
    path.write_text("not an ELF file")
    with pytest.raises(DeviceError) as caught:
        SdfDevice(str(path))
    assert not isinstance(caught.value, DeviceNotConfigured)
    assert str(path) in caught.value.message
    assert caught.value.message.startswith("无法加载密码设备（SDF）动态库")


def test_a_library_without_the_sdf_functions():
    libm = ctypes.util.find_library("m")
    if libm is None:
        pytest.skip("no libm to stand for a non-SDF library")
    with pytest.raises(DeviceError) as caught:
        open_sdf_device(libm)
    assert "SDF_OpenDevice" in caught.value.message
    assert libm in caught.value.message


# ----- concurrency --------------------------------------------------------------------------
def test_threads_share_one_device(device):
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work(index: int) -> None:
        try:
            start.wait()
            for round_no in range(40):
                key = os.urandom(16 * (1 + round_no % 3))
                kek = 1 + (index + round_no) % 16
                assert device.unwrap(kek, device.wrap(kek, key)) == key
                assert len(device.random(24)) == 24
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_opens_its_own_session(device):
    key = os.urandom(32)
    assert device.unwrap(1, device.wrap(1, key)) == key  # the parent holds a session
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: must never return into pytest
        status = 1
        try:
            fresh = not device.is_open
            blob = device.wrap(1, key)
            os.write(write_end, (b"fresh " if fresh else b"stale ") + blob.hex().encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        answer = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    state, blob_hex = answer.split()
    assert state == "fresh"
    assert device.is_open
    assert device.unwrap(1, bytes.fromhex(blob_hex)) == key


def test_keyring_with_the_master_key_in_the_device(database, standin, tmp_path):
    """End to end: settings name the SDF library; the data keys are rewrapped under the
    device's internal KEK and everything still decrypts; a wrong KEK index is refused by
    the key check value even though the device itself cannot tell."""
    from hpf.config import CryptoSettings
    from hpf.crypto import keys
    from hpf.crypto.errors import KeyManagementError

    ring = keys.for_engine(database.engine)
    software = ring.master
    device_settings = CryptoSettings(kek_source="sdf", sdf_library=standin, sdf_kek_index=3)
    hsm = keys.load_master_key(device_settings, str(tmp_path))
    assert hsm.kek_id == "sdf-3" and "密码设备" in hsm.description
    try:
        ring.rewrap(hsm)
        with database.engine.connect() as conn:
            kek_ids = {r.kek_id for r in conn.execute(sa.text("SELECT kek_id FROM crypto_key"))}
        assert kek_ids == {"sdf-3"}
        fresh = keys.Keyring(database.engine, lambda: keys.load_master_key(device_settings, str(tmp_path)))
        fresh.reload()
        assert {k.key_id: k.secret for k in fresh.all_keys()} == {k.key_id: k.secret for k in ring.all_keys()}
        wrong = CryptoSettings(kek_source="sdf", sdf_library=standin, sdf_kek_index=4)
        with pytest.raises(KeyManagementError, match="主密钥无法解开数据密钥"):
            keys.Keyring(database.engine, lambda: keys.load_master_key(wrong, str(tmp_path))).reload()
    finally:
        ring.rewrap(software)
    with pytest.raises(DeviceNotConfigured, match="sdf_library"):
        keys.load_master_key(CryptoSettings(kek_source="sdf"), str(tmp_path))
