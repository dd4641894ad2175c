"""The run directory: atomic writes, a journal of finished images, resume.

Layout (DESIGN §4):
  spec.yaml  images/<prompt-id>/<index>.png  samples.parquet  features/  metrics.json
  per_sample.parquet  report.html  report.md
Every file is written to a temporary name in the same folder and moved into place
with os.replace, so a crash never leaves a half-written file that a later stage trusts.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from evalkit.images import inside

# A file's temporary name starts with this, then the host and process that write it, so a
# crash's leftovers are easy to spot and a concurrent run's in-flight files are left alone.
TMP_PREFIX = ".tmp-"
_HOST = socket.gethostname().replace("-", "_")
_STALE_FOREIGN_S = 24 * 3600  # another host's temporary this old belongs to no live write


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_MODE = 0o666 & ~_umask()  # files get the user's usual permissions, not mkstemp's 0600
DIR_MODE = 0o777 & ~_umask()  # and folders made with mkdtemp, not its 0700


def _tmp_prefix() -> str:
    return f"{TMP_PREFIX}{_HOST}-{os.getpid()}-"


def atomic_write(path: str | os.PathLike, write: Callable[[io.BufferedWriter], None]) -> Path:
    """Write a file through `write(fileobj)` so it appears complete or not at all."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(), dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    return atomic_write(path, lambda f: f.write(data))


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any, sort_keys: bool = True) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=sort_keys, default=str) + "\n")


def png_bytes(image) -> bytes:
    """Encode a PIL image as PNG deterministically (no timestamps or text chunks)."""
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _is_stale(path: Path) -> bool:
    """A temporary whose writer is gone: this host's dead process, or another host's old file."""
    parts = path.name[len(TMP_PREFIX):].split("-")
    if len(parts) >= 3 and parts[0] == _HOST and parts[1].isdigit():
        return not _alive(int(parts[1]))
    try:
        return time.time() - path.stat().st_mtime > _STALE_FOREIGN_S or len(parts) < 3
    except OSError:
        return False


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # our own leftovers from before are stale: we write one file at a time
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(root: Path, recursive: bool = True) -> int:
    """Delete the temporaries under `root` whose writers are gone; returns how many."""
    if not root.exists():
        return 0
    found = root.rglob(f"{TMP_PREFIX}*") if recursive else root.glob(f"{TMP_PREFIX}*")
    stale = [p for p in found if p.is_file() and _is_stale(p)]
    for p in stale:
        p.unlink(missing_ok=True)
    return len(stale)


class RunStore:
    """Paths and writes of one run directory."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    # --- paths -----------------------------------------------------------------------
    @property
    def images_dir(self) -> Path:
        return self.root / "images"

    def image_path(self, prompt_id: str, index: int) -> Path:
        return inside(self.images_dir, f"{prompt_id}/{index}.png")

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    @property
    def features_dir(self) -> Path:
        return self.root / "features"

    def journal_path(self, rank: int = 0) -> Path:
        return self.root / f"samples.rank{rank}.jsonl"

    # --- cleanup -----------------------------------------------------------------------
    def remove_stale_temporaries(self) -> int:
        """Delete temporary files that crashed writers left behind (never a live one); returns how many."""
        return remove_stale_temporaries(self.root)

    # --- images and their journal ------------------------------------------------------
    def write_image(self, prompt_id: str, index: int, image) -> tuple[Path, str]:
        data = png_bytes(image)
        path = atomic_write_bytes(self.image_path(prompt_id, index), data)
        return path, sha256_bytes(data)

    def append_journal(self, rows: Iterable[dict], rank: int = 0) -> None:
        """Record finished images. A torn last line (crash mid-append) is ignored on read."""
        text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows)
        if not text:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.journal_path(rank), "a", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())

    def read_journal(self) -> dict[tuple[str, int], dict]:
        """Rows of every rank's journal, keyed by (prompt id, index); last write wins."""
        rows: dict[tuple[str, int], dict] = {}
        for path in sorted(self.root.glob("samples.rank*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                    rows[(str(row["prompt_id"]), int(row["index"]))] = row
                except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                    continue  # torn or damaged line: its image is re-hashed or re-made
        return rows
