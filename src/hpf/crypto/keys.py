"""Envelope key management: a master key (KEK) protects per-purpose data keys (DEKs).

- The KEK comes from a key file, the environment (``HPF_CRYPTO_KEK``) or a GM/T 0018
  hardware crypto device (SDF), where it never leaves the device.
- DEKs are generated here, stored in ``crypto_key`` wrapped under the KEK, and unwrapped
  into memory on first use. Each has a version; the highest ``active`` version of a
  purpose encrypts, every version still in the table decrypts, so ciphertexts written
  before a rotation stay readable until ``hpf crypto rotate-keys`` has re-encrypted them.
- One keyring per database engine, found from the SQLAlchemy dialect that is executing a
  statement (that is all a column type sees), so one process can hold several databases.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from hpf.crypto import core
from hpf.crypto.errors import DeviceNotConfigured, KeyManagementError, UnknownKeyId

log = logging.getLogger("hpf.crypto")


@dataclass(frozen=True)
class Purpose:
    name: str
    prefix: str
    algorithm: str
    size: int
    use: str


PURPOSES = {
    p.name: p for p in (
        Purpose("pii", "pii", "SM4-GCM", 16, "个人敏感信息字段加密（身份证号、手机号、银行卡号）"),
        Purpose("blind_index", "bidx", "HMAC-SM3", 32, "敏感字段盲索引（密文上的精确查询）"),
        Purpose("integrity", "mac", "HMAC-SM3", 32, "重要数据完整性校验（余额、明细、权限、参数）"),
        Purpose("audit_signing", "aud", "SM2", 32, "审计链检查点签名（SM2 私钥）"),
        Purpose("document_signing", "doc", "SM2", 32, "证明文件签名（缴存证明等，SM2 私钥）"),
    )
}


@dataclass(frozen=True)
class DataKey:
    key_id: str
    purpose: str
    version: int
    algorithm: str
    secret: bytes
    status: str

    def __repr__(self) -> str:  # never the key bytes
        return f"DataKey({self.key_id}, {self.status})"


# ---------------------------------------------------------------- master keys (KEK)

class MasterKey(Protocol):
    kek_id: str
    description: str

    def wrap(self, dek: bytes, aad: bytes) -> bytes: ...
    def unwrap(self, blob: bytes, aad: bytes) -> bytes: ...


class SoftwareMasterKey:
    """A 16-byte SM4 key held in memory; DEKs are sealed with SM4-GCM, the key id as AAD."""

    def __init__(self, key: bytes, origin: str) -> None:
        if len(key) != 16:
            raise KeyManagementError("主密钥长度必须为16字节（32位十六进制）")
        self._key = key
        # An identifier that names the key without revealing anything usable about it.
        self.kek_id = "soft-" + core.hmac_sm3(key, b"HPF-KEK-ID")[:4].hex()
        self.description = origin

    def wrap(self, dek: bytes, aad: bytes) -> bytes:
        nonce = core.random_bytes(12)
        return nonce + core.sm4_gcm_encrypt(self._key, nonce, dek, aad)

    def unwrap(self, blob: bytes, aad: bytes) -> bytes:
        return core.sm4_gcm_decrypt(self._key, blob[:12], blob[12:], aad)


class DeviceMasterKey:
    """The KEK stays inside a GM/T 0018 device; wrapping is the device's own operation."""

    def __init__(self, device, index: int, library: str) -> None:
        self._device, self._index = device, index
        self.kek_id = f"sdf-{index}"
        self.description = f"密码设备 {library}，内部密钥索引 {index}"

    def wrap(self, dek: bytes, aad: bytes) -> bytes:
        return self._device.wrap(self._index, dek)

    def unwrap(self, blob: bytes, aad: bytes) -> bytes:
        return self._device.unwrap(self._index, blob)


def parse_hex_key(text: str, where: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != 16:
        raise KeyManagementError(f"{where} 中的主密钥无效：应为32位十六进制数（16字节）")
    return key


def load_master_key(crypto_settings, instance_path: str) -> MasterKey:
    """Resolve the KEK source named by ``[crypto] kek_source`` (see CryptoSettings)."""
    source = crypto_settings.kek_source
    if source == "auto":
        source = "env" if crypto_settings.kek else "sdf" if crypto_settings.sdf_library else "file"
    if source == "env":
        if not crypto_settings.kek:
            raise KeyManagementError("kek_source = env，但环境变量 HPF_CRYPTO_KEK 未设置")
        key = parse_hex_key(crypto_settings.kek, "HPF_CRYPTO_KEK")
        return SoftwareMasterKey(key, "环境变量 HPF_CRYPTO_KEK")
    if source == "sdf":
        if not crypto_settings.sdf_library:
            raise DeviceNotConfigured(
                "未配置密码设备（SDF）：请在配置文件 [crypto] sdf_library 中填写厂商提供的 SDF 动态库路径")
        from hpf_adapters.crypto import open_sdf_device

        device = open_sdf_device(crypto_settings.sdf_library)
        return DeviceMasterKey(device, crypto_settings.sdf_kek_index, crypto_settings.sdf_library)
    configured = crypto_settings.kek_file
    path = Path(configured) if configured else Path(instance_path) / "kek.key"
    if not path.is_file():
        if configured:
            raise KeyManagementError(f"主密钥文件不存在：{path}")
        return SoftwareMasterKey(_generate_key_file(path), f"实例目录中自动生成的密钥文件 {path}（仅供评估）")
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyManagementError(f"无法读取主密钥文件 {path}：{exc}") from None
    if path.stat().st_mode & 0o077:
        log.warning("master key file %s is readable by group or others: chmod 600 it", path)
    return SoftwareMasterKey(parse_hex_key(text, f"主密钥文件 {path}"), f"密钥文件 {path}")


def _generate_key_file(path: Path) -> bytes:
    key = secrets.token_bytes(16)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return parse_hex_key(path.read_text(encoding="ascii"), f"主密钥文件 {path}")
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex() + "\n")
    log.warning("no master key configured: generated %s (evaluation only; use a crypto device, "
                "HPF_CRYPTO_KEK or [crypto] kek_file in production)", path)
    return key


def _new_secret(purpose: Purpose) -> bytes:
    if purpose.algorithm == "SM2":  # a private scalar in [1, n-2], not any 32 bytes
        from hpf.crypto.sm2 import SM2PrivateKey

        return SM2PrivateKey.generate().to_bytes()
    return core.random_bytes(purpose.size)


def check_value(dek: bytes, key_id: str) -> str:
    return core.hmac_sm3(dek, b"HPF-KCV:" + key_id.encode())[:8].hex()


# ---------------------------------------------------------------- the keyring

class Keyring:
    """The data keys of one database, unwrapped on first use and refreshed periodically."""

    def __init__(self, engine, master_loader, *, refresh_seconds: int = 60) -> None:
        self.engine = engine
        self._master_loader = master_loader
        self._master: MasterKey | None = None
        self._refresh = refresh_seconds
        self._lock = threading.RLock()
        self._keys: dict[str, DataKey] = {}
        self._wrapped: dict[str, bytes] = {}
        self._active: dict[str, DataKey] = {}
        self._loaded_at: float | None = None

    @property
    def master(self) -> MasterKey:
        if self._master is None:
            with self._lock:
                if self._master is None:
                    self._master = self._master_loader()
        return self._master

    # ------------------------------------------------------------ reading

    def active(self, purpose: str) -> DataKey:
        self._maybe_refresh()
        key = self._active.get(purpose)
        if key is None:
            raise KeyManagementError(f"用途为 {purpose} 的数据密钥尚未生成：请先执行 hpf db upgrade")
        return key

    def get(self, key_id: str) -> DataKey:
        key = self._keys.get(key_id)
        if key is None:  # written by another node after a rotation we have not seen yet
            self.reload()
            key = self._keys.get(key_id)
        if key is None:
            raise UnknownKeyId(internal=f"key id {key_id!r} not in crypto_key")
        return key

    def live(self, purpose: str) -> list[DataKey]:
        """Every key of a purpose still in the table, active first."""
        self._maybe_refresh()
        keys = [k for k in self._keys.values() if k.purpose == purpose]
        return sorted(keys, key=lambda k: (k.status != "active", -k.version))

    def all_keys(self) -> list[DataKey]:
        self._maybe_refresh()
        return sorted(self._keys.values(), key=lambda k: (k.purpose, k.version))

    def _maybe_refresh(self) -> None:
        # Inside a transaction only a first load happens here; periodic refreshes run at
        # the start of a unit of work (refresh_if_stale), so a request does not pay for a
        # key query in the middle of its work.
        if self._loaded_at is None:
            self.reload()

    def refresh_if_stale(self) -> None:
        """Called before a transaction starts: pick up keys rotated by another node."""
        if self._loaded_at is None or time.monotonic() - self._loaded_at > self._refresh:
            try:
                self.reload()
            except KeyManagementError:
                raise
            except Exception:  # no crypto_key table yet (before the first upgrade)
                log.debug("keyring not loaded", exc_info=True)

    def reload(self) -> None:
        from hpf.repositories import keys as repo

        # A declared reader: on SQLite it must not wait for the write lock, because a key
        # may be needed in the middle of another connection's transaction.
        with self.engine.connect().execution_options(hpf_read_only=True) as conn:
            rows = repo.all_keys(conn)
        with self._lock:
            keys, active = {}, {}
            for row in rows:
                known = self._keys.get(row.key_id)
                same = known is not None and self._wrapped.get(row.key_id) == row.wrapped
                secret = known.secret if same else self._unwrap(row)
                key = DataKey(row.key_id, row.purpose, row.version, row.algorithm, secret, row.status)
                keys[row.key_id] = key
                self._wrapped[row.key_id] = row.wrapped
                if row.status == "active":
                    active[row.purpose] = key
            self._keys, self._active, self._loaded_at = keys, active, time.monotonic()

    def _unwrap(self, row) -> bytes:
        try:
            secret = self.master.unwrap(row.wrapped, row.key_id.encode())
        except KeyManagementError:
            raise
        except Exception:
            secret = None
        if secret is None or check_value(secret, row.key_id) != row.check_value:
            raise KeyManagementError(
                f"主密钥无法解开数据密钥 {row.key_id}（它由主密钥 {row.kek_id} 保护，当前主密钥为 "
                f"{self.master.kek_id}）：请检查主密钥配置")
        return secret

    # ------------------------------------------------------------ writing

    def ensure(self) -> list[str]:
        """Create version 1 of every purpose that has no key yet; return the new key ids."""
        self.reload()
        created = [self._create(p) for p in PURPOSES if p not in self._active]
        if created:
            self.reload()
        return created

    def rotate(self, purposes: list[str]) -> list[str]:
        """Make a new version active for each purpose; older versions stay readable."""
        self.reload()
        created = [self._create(p, rotating=True) for p in purposes]
        self.reload()
        return created

    def _create(self, purpose_name: str, *, rotating: bool = False, attempts: int = 3) -> str:
        from sqlalchemy.exc import IntegrityError

        from hpf.repositories import keys as repo

        purpose = PURPOSES[purpose_name]
        version = max((k.version for k in self._keys.values() if k.purpose == purpose_name), default=0) + 1
        key_id = f"{purpose.prefix}{version}-{secrets.token_hex(3)}"
        secret = _new_secret(purpose)
        try:
            with self.engine.begin() as conn:
                repo.insert_key(conn, key_id=key_id, purpose=purpose_name, version=version,
                                algorithm=purpose.algorithm, status="active",
                                wrapped=self.master.wrap(secret, key_id.encode()),
                                kek_id=self.master.kek_id, check_value=check_value(secret, key_id))
                repo.retire_active(conn, purpose_name, key_id)
        except IntegrityError:
            self.reload()
            if rotating and attempts > 1:  # someone else took this version number: take the next
                return self._create(purpose_name, rotating=True, attempts=attempts - 1)
            # Another node created the first key at the same moment: theirs is as good.
            return self._active[purpose_name].key_id
        log.info("data key created: %s (%s)", key_id, purpose.algorithm)
        return key_id

    def rewrap(self, new_master: MasterKey) -> int:
        """Re-protect every data key under another master key (KEK rotation, moving to a
        device). Data is untouched: only the wrapped DEKs change."""
        from hpf.repositories import keys as repo

        self.reload()
        with self.engine.begin() as conn:
            for key in self._keys.values():
                repo.rewrap(conn, key.key_id, new_master.wrap(key.secret, key.key_id.encode()),
                            new_master.kek_id)
        with self._lock:
            self._master = new_master
            self._wrapped.clear()
        self.reload()
        return len(self._keys)

    def delete_retired(self, key_id: str) -> None:
        from hpf.repositories import keys as repo

        with self.engine.begin() as conn:
            repo.delete_key(conn, key_id)
        self.reload()


# ---------------------------------------------------------------- per-engine registry

_keyrings: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_registry_lock = threading.Lock()


def attach(engine, crypto_settings, instance_path: str) -> Keyring:
    """Give ``engine`` its keyring (the master key is loaded on first use, not here)."""
    keyring = Keyring(engine, lambda: load_master_key(crypto_settings, instance_path),
                      refresh_seconds=crypto_settings.key_refresh_seconds)
    with _registry_lock:
        _keyrings[engine.dialect] = keyring
    return keyring


def for_dialect(dialect) -> Keyring:
    keyring = _keyrings.get(dialect)
    if keyring is None:
        raise KeyManagementError("该数据库连接未配置密钥环", internal="no keyring attached to this engine")
    return keyring


def for_engine(engine) -> Keyring:
    return for_dialect(engine.dialect)
