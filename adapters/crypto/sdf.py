"""A GM/T 0018-2012 (SDF, 密码设备应用接口规范) crypto device, called through ctypes.

The vendor ships a C library (``libsdf.so`` or similar) exposing the standard SDF API; the
operator names it in ``[crypto] sdf_library``. HPF Core uses a small subset of it to wrap and
unwrap its data-encryption keys under a KEK that never leaves the device, and for random
bytes.

Wrapping (``SdfDevice.wrap``): the device generates a fresh 128-bit SM4 session key and
returns it encrypted under the KEK at ``kek_index`` (``SDF_GenerateKeyWithKEK``, SM4-ECB), the
data is encrypted with the session key in SM4-CBC under a random IV from the device, and the
session key handle is destroyed. The result is self-describing::

    version (1 byte, =1) | n (2 bytes, big-endian) | encrypted session key (n bytes)
                         | IV (16 bytes) | ciphertext (a multiple of 16 bytes)

There is no integrity check in this format (no padding either: the data must be a multiple
of 16 bytes); callers that need to detect a wrong KEK add a key check value on top.

Errors: a failing SDF call raises ``SdfCallError`` (a ``DeviceError``) naming the function
and its ``SDR_*`` code; a malformed blob raises ``InvalidCiphertext``. No message ever holds
key bytes or plaintext.

Threads and processes: one device handle and one session per ``SdfDevice``, every call under
a lock. After ``fork()`` the child forgets the parent's handles (without closing them, they
are the parent's) and opens its own on first use.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hpf.crypto.errors import (
    DeviceError,
    DeviceNotConfigured,
    InvalidCiphertext,
    InvalidInput,
)

__all__ = [
    "BLOB_VERSION", "DEVICEINFO", "NOT_CONFIGURED", "SDR_NAMES", "SDR_OK", "SGD_SM4_CBC", "SGD_SM4_ECB",
    "SdfCallError", "SdfDevice", "open_sdf_device", "sdr_name",
]

log = logging.getLogger("hpf.crypto.sdf")

# ----- GM/T 0018-2012 constants ------------------------------------------------------------
SGD_SM4_ECB = 0x00000401
SGD_SM4_CBC = 0x00000402

SDR_OK = 0x0
SDR_BASE = 0x01000000
SDR_NAMES: dict[int, str] = {SDR_OK: "SDR_OK"} | {
    SDR_BASE + offset: name
    for offset, name in enumerate(
        [
            "SDR_UNKNOWERR", "SDR_NOTSUPPORT", "SDR_COMMFAIL", "SDR_HARDFAIL",
            "SDR_OPENDEVICE", "SDR_OPENSESSION", "SDR_PARDENY", "SDR_KEYNOTEXIST",
            "SDR_ALGNOTSUPPORT", "SDR_ALGMODNOTSUPPORT", "SDR_PKOPERR", "SDR_SKOPERR",
            "SDR_SIGNERR", "SDR_VERIFYERR", "SDR_SYMOPERR", "SDR_STEPERR",
            "SDR_FILESIZEERR", "SDR_FILENOEXIST", "SDR_FILEOFSERR", "SDR_KEYTYPEERR",
            "SDR_KEYERR", "SDR_ENCDATAERR", "SDR_RANDERR", "SDR_PRKRERR", "SDR_MACERR",
            "SDR_FILEEXISTS", "SDR_FILEWERR", "SDR_NOBUFFER", "SDR_INARGERR",
            "SDR_OUTARGERR",
        ],
        start=1,
    )
}
SDR_COMMFAIL = SDR_BASE + 0x03
SDR_HARDFAIL = SDR_BASE + 0x04
# After these the session is probably gone (a network HSM dropped the link, a card reset):
# release the handles so the next call opens fresh ones.
_SESSION_LOST = frozenset({SDR_COMMFAIL, SDR_HARDFAIL})


def sdr_name(rc: int) -> str:
    """``SDR_KEYNOTEXIST`` for a standard code, ``0x80000001`` for a vendor's own."""
    rc &= 0xFFFFFFFF
    return SDR_NAMES.get(rc, f"0x{rc:08X}")


# ----- the wrapped-key format --------------------------------------------------------------
BLOB_VERSION = 1
BLOCK = 16  # SM4 block and IV size
SESSION_KEY_BITS = 128
KEY_BLOB_MAX = 1024  # what SDF_GenerateKeyWithKEK may write; a 128-bit key needs 16 on most devices
RANDOM_CHUNK = 4096  # bytes per SDF_GenerateRandom call (devices cap one request)
_HEADER = 3


class DEVICEINFO(ctypes.Structure):
    _fields_ = [
        ("IssuerName", ctypes.c_ubyte * 40),
        ("DeviceName", ctypes.c_ubyte * 16),
        ("DeviceSerial", ctypes.c_ubyte * 16),
        ("DeviceVersion", ctypes.c_uint),
        ("StandardVersion", ctypes.c_uint),
        ("AsymAlgAbility", ctypes.c_uint * 2),
        ("SymAlgAbility", ctypes.c_uint),
        ("HashAlgAbility", ctypes.c_uint),
        ("BufferSize", ctypes.c_uint),
    ]


_H = ctypes.c_void_p
_PH = ctypes.POINTER(ctypes.c_void_p)
_U = ctypes.c_uint
_PU = ctypes.POINTER(ctypes.c_uint)
_PB = ctypes.POINTER(ctypes.c_ubyte)

PROTOTYPES: dict[str, list[Any]] = {
    "SDF_OpenDevice": [_PH],
    "SDF_CloseDevice": [_H],
    "SDF_OpenSession": [_H, _PH],
    "SDF_CloseSession": [_H],
    "SDF_GetDeviceInfo": [_H, ctypes.POINTER(DEVICEINFO)],
    "SDF_GenerateRandom": [_H, _U, _PB],
    "SDF_GenerateKeyWithKEK": [_H, _U, _U, _U, _PB, _PU, _PH],
    "SDF_ImportKeyWithKEK": [_H, _U, _U, _PB, _U, _PH],
    "SDF_DestroyKey": [_H, _H],
    "SDF_Encrypt": [_H, _H, _U, _PB, _PB, _U, _PB, _PU],
    "SDF_Decrypt": [_H, _H, _U, _PB, _PB, _U, _PB, _PU],
}


class SdfCallError(DeviceError):
    """An SDF function returned something other than SDR_OK."""

    def __init__(self, function: str, rc: int, library: str = "") -> None:
        self.function = function
        self.rc = rc & 0xFFFFFFFF
        self.sdr = sdr_name(rc)
        where = f" [library {library}]" if library else ""
        super().__init__(f"密码设备调用失败：{function} 返回 {self.sdr}",
                         internal=f"{function} returned {self.sdr} (0x{self.rc:08X}){where}")


def _load(library: str) -> ctypes.CDLL:
    if os.sep in library and not os.path.isfile(library):
        raise DeviceNotConfigured(
            f"密码设备（SDF）动态库不存在：{library}（请检查配置文件 [crypto] sdf_library）",
            internal=f"sdf_library {library!r}: no such file")
    try:
        lib = ctypes.CDLL(library)
    except OSError as exc:
        raise DeviceError(f"无法加载密码设备（SDF）动态库 {library}：{exc}",
                          internal=f"dlopen({library!r}) failed: {exc}") from exc
    missing = [name for name in PROTOTYPES if not hasattr(lib, name)]
    if missing:
        raise DeviceError(
            f"动态库 {library} 缺少 SDF 接口函数 {', '.join(missing)}"
            "（不是 GM/T 0018 密码设备接口库，或版本不符）",
            internal=f"{library}: missing symbols {missing}")
    for name, argtypes in PROTOTYPES.items():
        func = getattr(lib, name)
        func.argtypes = argtypes
        func.restype = ctypes.c_int
    return lib


def _text(field: ctypes.Array) -> str:
    raw = bytes(field).split(b"\0", 1)[0]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("gbk", errors="replace")  # domestic vendors often fill these in GBK
    return text.strip()


def _kek_index(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
        raise InvalidInput("KEK 索引必须是 0～4294967295 之间的整数",
                           internal=f"kek_index {value!r}")
    return value


def _as_bytes(value: Any, what: str) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise TypeError(f"{what} must be bytes, not {type(value).__name__}")


def _parse_blob(blob: bytes) -> tuple[bytes, bytes, bytes]:
    """(encrypted session key, IV, ciphertext); InvalidCiphertext for anything malformed."""
    def bad(why: str) -> InvalidCiphertext:
        return InvalidCiphertext(internal=f"SDF wrapped blob ({len(blob)} bytes): {why}")

    if len(blob) < _HEADER:
        raise bad("shorter than the header")
    if blob[0] != BLOB_VERSION:
        raise bad(f"unknown version {blob[0]}")
    key_len = int.from_bytes(blob[1:_HEADER], "big")
    if key_len == 0:
        raise bad("empty session key")
    rest = len(blob) - _HEADER - key_len - BLOCK
    if rest <= 0:
        raise bad(f"truncated (session key of {key_len} bytes, no IV or ciphertext)")
    if rest % BLOCK:
        raise bad(f"ciphertext of {rest} bytes is not a multiple of {BLOCK}")
    iv_at = _HEADER + key_len
    return blob[_HEADER:iv_at], blob[iv_at:iv_at + BLOCK], blob[iv_at + BLOCK:]


def _bytes_of(buffer: ctypes.Array, length: int) -> bytes:
    return ctypes.string_at(ctypes.addressof(buffer), length)


class SdfDevice:
    """One SDF library, one device handle, one session; opened on first use.

    ``info()``, ``random(n)``, ``wrap(kek_index, plaintext)``, ``unwrap(kek_index, blob)``;
    ``close()`` (or use it as a context manager). Safe to share between threads.
    """

    def __init__(self, library: str) -> None:
        self.library = library
        self._lib = _load(library)
        self._lock = threading.RLock()
        self._device: ctypes.c_void_p | None = None
        self._session: ctypes.c_void_p | None = None
        self._closed = False
        _LIVE.add(self)

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open" if self._session is not None else "idle"
        return f"<SdfDevice {self.library} {state}>"

    def __enter__(self) -> SdfDevice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def is_open(self) -> bool:
        """True while a device session is held (it is opened by the first call)."""
        return self._session is not None

    # ----- lifecycle ----------------------------------------------------------------------
    def close(self) -> None:
        """Close the session and the device. Idempotent; the object cannot be used after."""
        with self._lock:
            self._closed = True
            self._release()

    def _release(self) -> None:
        session, device = self._session, self._device
        self._session = self._device = None
        for name, handle in (("SDF_CloseSession", session), ("SDF_CloseDevice", device)):
            if handle is None:
                continue
            rc = getattr(self._lib, name)(handle) & 0xFFFFFFFF
            if rc != SDR_OK:
                log.warning("%s returned %s while releasing %s", name, sdr_name(rc), self.library)

    def _forget_after_fork(self) -> None:
        # In a forked child the handles are the parent's: closing them here could close the
        # parent's connection to a network HSM. Drop them; the child opens its own.
        self._lock = threading.RLock()
        self._session = self._device = None

    def _call(self, name: str, *args: Any) -> None:
        rc = getattr(self._lib, name)(*args) & 0xFFFFFFFF
        if rc != SDR_OK:
            raise SdfCallError(name, rc, self.library)

    def _open(self) -> ctypes.c_void_p:
        """The session handle, opening device and session if needed. Call with the lock held."""
        if self._closed:
            raise DeviceError("密码设备连接已关闭", internal=f"{self!r} used after close()")
        if self._session is None:
            device = ctypes.c_void_p()
            self._call("SDF_OpenDevice", ctypes.byref(device))
            session = ctypes.c_void_p()
            try:
                self._call("SDF_OpenSession", device, ctypes.byref(session))
            except BaseException:
                self._device = device
                self._release()
                raise
            self._device, self._session = device, session
        return self._session

    @contextmanager
    def _using(self) -> Iterator[ctypes.c_void_p]:
        with self._lock:
            session = self._open()
            try:
                yield session
            except SdfCallError as exc:
                if exc.rc in _SESSION_LOST:
                    self._release()
                raise

    # ----- operations ---------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        """The DEVICEINFO block: ``issuer``, ``device_name``, ``serial``, ``device_version``,
        ``standard_version``, ``asym_alg_ability`` (two ints), ``sym_alg_ability``,
        ``hash_alg_ability``, ``buffer_size``. Text fields are decoded and stripped."""
        di = DEVICEINFO()
        with self._using() as session:
            self._call("SDF_GetDeviceInfo", session, ctypes.byref(di))
        return {
            "issuer": _text(di.IssuerName),
            "device_name": _text(di.DeviceName),
            "serial": _text(di.DeviceSerial),
            "device_version": di.DeviceVersion,
            "standard_version": di.StandardVersion,
            "asym_alg_ability": list(di.AsymAlgAbility),
            "sym_alg_ability": di.SymAlgAbility,
            "hash_alg_ability": di.HashAlgAbility,
            "buffer_size": di.BufferSize,
        }

    def random(self, n: int) -> bytes:
        """``n`` random bytes from the device's generator."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise InvalidInput("随机数长度必须是非负整数", internal=f"random({n!r})")
        with self._using() as session:
            return self._random(session, n)

    def _random(self, session: ctypes.c_void_p, n: int) -> bytes:
        parts = []
        for offset in range(0, n, RANDOM_CHUNK):
            size = min(RANDOM_CHUNK, n - offset)
            buf = (ctypes.c_ubyte * size)()
            self._call("SDF_GenerateRandom", session, size, buf)
            parts.append(_bytes_of(buf, size))
        return b"".join(parts)

    def wrap(self, kek_index: int, plaintext: bytes) -> bytes:
        """Encrypt ``plaintext`` (a positive multiple of 16 bytes, e.g. a DEK) under a fresh
        session key that the device protects with KEK ``kek_index``; see the module doc."""
        index = _kek_index(kek_index)
        data = _as_bytes(plaintext, "plaintext")
        if not data or len(data) % BLOCK:
            raise InvalidInput(f"待封装的数据长度必须是16字节的正整数倍（当前为{len(data)}字节）",
                               internal=f"wrap: {len(data)} bytes")
        with self._using() as session:
            iv = self._random(session, BLOCK)
            key_blob = (ctypes.c_ubyte * KEY_BLOB_MAX)()
            key_len = ctypes.c_uint(KEY_BLOB_MAX)  # in/out on some devices, out-only in the standard
            handle = ctypes.c_void_p()
            self._call("SDF_GenerateKeyWithKEK", session, SESSION_KEY_BITS, SGD_SM4_ECB, index,
                       key_blob, ctypes.byref(key_len), ctypes.byref(handle))
            try:
                if not 0 < key_len.value <= KEY_BLOB_MAX or not handle.value:
                    raise DeviceError(
                        "密码设备返回的会话密钥异常：SDF_GenerateKeyWithKEK",
                        internal=f"SDF_GenerateKeyWithKEK: key length {key_len.value}, "
                                 f"handle {'set' if handle.value else 'NULL'}")
                ciphertext = self._crypt("SDF_Encrypt", session, handle, iv, data)
            finally:
                self._destroy(session, handle)
        wrapped_key = _bytes_of(key_blob, key_len.value)
        return (bytes([BLOB_VERSION]) + len(wrapped_key).to_bytes(2, "big") + wrapped_key
                + iv + ciphertext)

    def unwrap(self, kek_index: int, blob: bytes) -> bytes:
        """The plaintext of a ``wrap`` result. A malformed blob raises InvalidCiphertext;
        a wrong KEK is not detected here (the format has no integrity check)."""
        index = _kek_index(kek_index)
        wrapped_key, iv, ciphertext = _parse_blob(_as_bytes(blob, "blob"))
        key_buf = (ctypes.c_ubyte * len(wrapped_key)).from_buffer_copy(wrapped_key)
        with self._using() as session:
            handle = ctypes.c_void_p()
            try:
                self._call("SDF_ImportKeyWithKEK", session, SGD_SM4_ECB, index, key_buf,
                           len(wrapped_key), ctypes.byref(handle))
                if not handle.value:
                    raise DeviceError("密码设备返回的会话密钥句柄为空：SDF_ImportKeyWithKEK",
                                      internal="SDF_ImportKeyWithKEK returned SDR_OK, NULL handle")
                return self._crypt("SDF_Decrypt", session, handle, iv, ciphertext)
            finally:
                self._destroy(session, handle)

    def _crypt(self, name: str, session: ctypes.c_void_p, handle: ctypes.c_void_p,
               iv: bytes, data: bytes) -> bytes:
        n = len(data)
        src = (ctypes.c_ubyte * n).from_buffer_copy(data)
        dst = (ctypes.c_ubyte * (n + BLOCK))()  # slack for a device that writes past n
        iv_buf = (ctypes.c_ubyte * BLOCK).from_buffer_copy(iv)  # devices may update it in place
        out_len = ctypes.c_uint(len(dst))
        try:
            self._call(name, session, handle, SGD_SM4_CBC, iv_buf, src, n, dst,
                       ctypes.byref(out_len))
            if out_len.value != n:
                raise DeviceError(f"密码设备返回的数据长度异常：{name}",
                                  internal=f"{name}: {out_len.value} bytes out for {n} in")
            return _bytes_of(dst, n)
        finally:
            ctypes.memset(src, 0, n)
            ctypes.memset(dst, 0, len(dst))

    def _destroy(self, session: ctypes.c_void_p, handle: ctypes.c_void_p) -> None:
        """Destroy a session key handle. Never raises (it runs in ``finally``): the
        operation's outcome stands, and a leaked handle is logged for the operator."""
        if not handle.value:
            return
        rc = self._lib.SDF_DestroyKey(session, handle) & 0xFFFFFFFF
        if rc != SDR_OK:
            log.warning("SDF_DestroyKey returned %s: a session key handle leaked (%s)",
                        sdr_name(rc), self.library)


_LIVE: weakref.WeakSet[SdfDevice] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for device in list(_LIVE):
        device._forget_after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


NOT_CONFIGURED = "未配置密码设备（SDF）：请在配置文件 [crypto] sdf_library 中填写厂商提供的 SDF 动态库路径"


def open_sdf_device(library: str | None) -> SdfDevice:
    """The device behind the vendor's SDF library at ``library`` (a path, or a bare library
    name for the dynamic linker to find). Loads the library now; opens the device lazily."""
    if not library or not library.strip():
        raise DeviceNotConfigured(NOT_CONFIGURED)
    return SdfDevice(library.strip())
