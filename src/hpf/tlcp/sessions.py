"""A TLCP session cache shared by gunicorn's worker processes.

Gunicorn's workers are separate processes: with the per-process ``SessionCache`` a client's
next connection is resumed only when it reaches the same worker (1 time in N). This store keeps
each session as one small file in a directory on tmpfs (``/dev/shm``), sealed with SM4-GCM under
a key that the master generates at start and the workers inherit by fork: the master secrets
never reach a disk in the clear, and a file changed or planted by anyone without the key is
rejected (the handshake then simply is a full one). The file name is the session ID, the AAD
binds the contents to it.

Bounded like the in-memory cache: entries older than ``ttl`` are refused and removed, and every
``SWEEP_EVERY`` stores the directory is swept back under ``size`` entries (oldest first).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import struct
import time
from pathlib import Path

from hpf.crypto import x509
from hpf.crypto.core import sm4_gcm_decrypt, sm4_gcm_encrypt
from hpf.crypto.errors import CryptoError
from hpf.tlcp.context import Session

SWEEP_EVERY = 256
_HEADER = struct.Struct(">HdB")  # suite, created (epoch seconds), number of peer certificates
_MAX_FILE = 64 * 1024


class SharedSessionCache:
    def __init__(self, directory: str | Path, key: bytes, size: int = 20000, ttl: float = 3600.0) -> None:
        if len(key) != 16:
            raise ValueError("the session store key is 16 bytes (SM4)")
        self.directory = Path(directory)
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.size, self.ttl = size, ttl
        self._key = key
        self._stores = 0

    def _path(self, session_id: bytes) -> Path | None:
        if not 1 <= len(session_id) <= 32:
            return None
        return self.directory / session_id.hex()

    def get(self, session_id: bytes) -> Session | None:
        path = self._path(session_id)
        if path is None:
            return None
        try:
            with path.open("rb") as handle:
                sealed = handle.read(_MAX_FILE + 1)
        except OSError:
            return None
        try:
            plain = sm4_gcm_decrypt(self._key, sealed[:12], sealed[12:], session_id)
            suite, created, count = _HEADER.unpack_from(plain)
            pos = _HEADER.size
            master = plain[pos : pos + 48]
            pos += 48
            certs = []
            for _ in range(count):
                length = int.from_bytes(plain[pos : pos + 3], "big")
                certs.append(x509.Certificate.from_der(plain[pos + 3 : pos + 3 + length]))
                pos += 3 + length
        except (CryptoError, struct.error, ValueError, IndexError):
            self._remove(path)  # not ours, or damaged: never trust it again
            return None
        if time.time() - created > self.ttl or len(master) != 48:
            self._remove(path)
            return None
        return Session(session_id, master, suite, tuple(certs), created)

    def put(self, session: Session) -> None:
        if self.size <= 0 or not session.session_id:
            return
        path = self._path(session.session_id)
        if path is None:
            return
        body = bytearray(_HEADER.pack(session.suite, session.created, len(session.peer_certificates)))
        body += session.master_secret
        for cert in session.peer_certificates:
            body += len(cert.der).to_bytes(3, "big") + cert.der
        if len(body) > _MAX_FILE - 64:
            return  # an unusually long client chain: such a session is simply not resumable
        nonce = secrets.token_bytes(12)
        sealed = nonce + sm4_gcm_encrypt(self._key, nonce, bytes(body), session.session_id)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(sealed)
            os.replace(temporary, path)
        except OSError:
            self._remove(temporary)  # a full tmpfs costs resumption, never a handshake
            return
        self._stores += 1
        if self._stores % SWEEP_EVERY == 0:
            self.sweep()

    def sweep(self) -> int:
        """Remove expired entries, then the oldest beyond ``size``; returns how many remain."""
        now = time.time()
        entries = []
        for entry in os.scandir(self.directory):
            with contextlib.suppress(OSError):
                mtime = entry.stat().st_mtime
                if now - mtime > self.ttl or (entry.name.endswith(".tmp") and now - mtime > 60):
                    os.unlink(entry.path)
                else:
                    entries.append((mtime, entry.path))
        if len(entries) > self.size:
            entries.sort()
            for _, path in entries[: len(entries) - self.size]:
                with contextlib.suppress(OSError):
                    os.unlink(path)
            return self.size
        return len(entries)

    @staticmethod
    def _remove(path: Path) -> None:
        with contextlib.suppress(OSError):
            path.unlink()

    def __len__(self) -> int:
        return sum(1 for e in os.scandir(self.directory) if not e.name.endswith(".tmp"))
