"""Cheap, stable fingerprints of model directories and file lists."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

# Config and tokenizer files are hashed whole; big weight files by size and their
# first and last MiB, so fingerprinting a 10 GB checkpoint takes milliseconds.
_WHOLE_LIMIT = 4 << 20
_EDGE = 1 << 20


def file_digest(path: Path) -> str:
    size = path.stat().st_size
    h = hashlib.sha256(str(size).encode())
    with open(path, "rb") as f:
        if size <= _WHOLE_LIMIT:
            h.update(f.read())
        else:
            h.update(f.read(_EDGE))
            f.seek(size - _EDGE)
            h.update(f.read(_EDGE))
    return h.hexdigest()


def dir_fingerprint(root: str | os.PathLike) -> str:
    """sha256 over (relative path, file digest) of every file below root, in sorted order."""
    root = Path(root)
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(file_digest(path).encode() + b"\n")
    return h.hexdigest()[:16]
