"""Features cached by image sha256, committed in chunks as they are computed.

A cache is a folder (one per extractor key) of `chunk-<digest>.npz` files, each holding
the sha256s and features of up to CHUNK images. A chunk is written atomically and named
by the digest of its sha256s, so a kill -9 loses at most the chunk being computed, a
re-run extracts only what is missing, and several processes (or machines sharing the
folder) can commit the same chunk without conflict.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

import numpy as np

from evalkit.errors import UserError
from evalkit.store import atomic_write, remove_stale_temporaries

CHUNK_ENV, DEFAULT_CHUNK = "EVALKIT_FEATURE_CHUNK", 256  # images per committed chunk: a crash loses at most this many


def chunk_size() -> int:
    value = os.environ.get(CHUNK_ENV, "")
    if value and not (value.isdigit() and int(value) > 0):
        raise UserError(f"{CHUNK_ENV}={value!r}: must be a whole number of images >= 1")
    return int(value) if value else DEFAULT_CHUNK


class FeatureCache:
    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def lookup(self, shas: list[str]) -> dict[str, np.ndarray]:
        """The cached features of those of `shas` that are in the cache (a killed writer's
        half-written chunk, if any, is deleted first)."""
        remove_stale_temporaries(self.folder, recursive=False)
        wanted, found = set(shas), {}
        for chunk in sorted(self.folder.glob("chunk-*.npz")):
            try:
                with np.load(chunk, allow_pickle=False) as data:
                    keys = data["sha256"].tolist()
                    if wanted.isdisjoint(keys):
                        continue
                    feats = data["features"]
            except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
                raise UserError(f"feature cache file {chunk} is corrupt; delete it and re-run "
                                "(its images are extracted again)") from None
            found.update((k, f) for k, f in zip(keys, feats) if k in wanted)
        return found

    def commit(self, shas: list[str], features: np.ndarray) -> Path | None:
        """Write one chunk (idempotent: the same images give the same file name)."""
        if not shas:
            return None
        digest = hashlib.sha256("\n".join(shas).encode()).hexdigest()[:24]
        path = self.folder / f"chunk-{digest}.npz"
        if path.is_file():
            return path

        def write(f):
            buf = io.BytesIO()
            np.savez(buf, sha256=np.array(shas), features=np.asarray(features, np.float32))
            f.write(buf.getvalue())

        return atomic_write(path, write)
