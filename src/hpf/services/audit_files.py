"""Audit archive files: gzip'd JSON Lines, one record per line, written durably.

A file is written to ``<name>.<pid>-<random>.partial``, flushed and fsync'ed, renamed into place and the
directory fsync'ed: only then does the caller register it and purge the records. The gzip
header carries no time or name, so the same records always give the same bytes (and SM3).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import secrets
import zlib
from collections.abc import Iterator
from pathlib import Path

from hpf import crypto

SUFFIX = ".jsonl.gz"


class ArchiveUnreadable(Exception):
    """A line (or the gzip stream) of an archive file cannot be read."""

    def __init__(self, line_no: int, reason: str) -> None:
        super().__init__(f"line {line_no}: {reason}")
        self.line_no, self.reason = line_no, reason


def file_name(from_seq: int, to_seq: int) -> str:
    return f"audit-{from_seq:012d}-{to_seq:012d}{SUFFIX}"


class ArchiveWriter:
    """``with ArchiveWriter(path) as out: out.write(obj) …; out.finish()`` — leaving the block
    without ``finish()`` removes the partial file, so no half-written file is left behind."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # A name of its own: two archivers racing never write into one file (the loser's
        # commit fails and its copy, byte-identical or unregistered, is harmless).
        self.partial = path.with_name(f"{path.name}.{os.getpid()}-{secrets.token_hex(4)}.partial")
        self.sm3 = ""
        self._raw = None
        self._gz: gzip.GzipFile | None = None

    def __enter__(self) -> ArchiveWriter:
        self.path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
        fd = os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        self._raw = os.fdopen(fd, "wb")
        self._gz = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0)
        return self

    def write(self, obj: dict) -> None:
        assert self._gz is not None
        self._gz.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")

    def finish(self) -> str:
        """Make the file durable under its final name; its SM3 (hex), read back from disk."""
        assert self._gz is not None and self._raw is not None
        self._gz.close()
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        self._gz = self._raw = None
        os.replace(self.partial, self.path)
        _fsync_dir(self.path.parent)
        self.sm3 = sm3_of(self.path)
        return self.sm3

    def __exit__(self, *exc) -> None:
        if self._gz is not None:  # not finished: an error, or a refusal
            for stream in (self._gz, self._raw):
                with contextlib.suppress(OSError):
                    stream.close()
            self.partial.unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # some file systems cannot open a directory; the rename is still atomic
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def sm3_of(path: Path) -> str:
    """SM3 of the file's bytes (files are bounded by the records per archive)."""
    return crypto.sm3(path.read_bytes()).hex()


def read_lines(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, record) for each line; ArchiveUnreadable names the first bad one."""
    line_no = 0
    try:
        with gzip.open(path, "rb") as fh:
            for line_no, raw in enumerate(fh, start=1):
                try:
                    obj = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    raise ArchiveUnreadable(line_no, f"不是有效的 JSON：{exc}") from None
                if not isinstance(obj, dict):
                    raise ArchiveUnreadable(line_no, "不是一条审计记录")
                yield line_no, obj
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise ArchiveUnreadable(line_no + 1, f"文件损坏或不完整：{exc}") from None
