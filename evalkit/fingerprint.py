"""Content fingerprints of files and folders: full sha256s, remembered by (path, size,
mtime) so that hashing a 10 GB checkpoint or 30K reference images costs one read, once.

The index is a small SQLite file in the cache; if it cannot be used (read-only cache),
files are simply hashed again.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

from evalkit.cache import cache_root

_INDEX = "hashes.sqlite"


def _sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


class _Index:
    """(absolute path, size, mtime_ns) -> sha256, shared by every evalkit process."""

    def __init__(self):
        self.conn = None
        try:
            root = cache_root()
            root.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(root / _INDEX, timeout=30, isolation_level=None)
            self.conn.execute("CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, "
                              "mtime_ns INTEGER, sha256 TEXT)")
        except (OSError, sqlite3.Error):
            self.conn = None

    def get(self, key: tuple[str, int, int]) -> str | None:
        if self.conn is None:
            return None
        row = self.conn.execute("SELECT sha256 FROM files WHERE path = ? AND size = ? AND mtime_ns = ?", key).fetchone()
        return row[0] if row else None

    def put(self, key: tuple[str, int, int], sha: str) -> None:
        if self.conn is not None:
            try:
                self.conn.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)", (*key, sha))
            except sqlite3.Error:
                pass

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def file_hashes(paths: list[Path]) -> list[str]:
    """sha256 of each file, from the index where its size and mtime are unchanged."""
    index = _Index()
    try:
        out = []
        for path in paths:
            st = os.stat(path)
            key = (os.path.realpath(path), st.st_size, st.st_mtime_ns)
            sha = index.get(key)
            if sha is None:
                sha = _sha256(path)
                index.put(key, sha)
            out.append(sha)
        return out
    finally:
        index.close()


def files_fingerprint(root: Path, files: list[Path], shas: list[str] | None = None) -> str:
    """sha256 over (path relative to root, content sha256) of each file, in the order given."""
    h = hashlib.sha256()
    for path, sha in zip(files, shas if shas is not None else file_hashes(files)):
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + sha.encode() + b"\n")
    return h.hexdigest()


def dir_fingerprint(root: str | os.PathLike) -> str:
    """Content fingerprint of every file below `root` (names and bytes), 16 hex digits."""
    root = Path(root)
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return files_fingerprint(root, files)[:16]
