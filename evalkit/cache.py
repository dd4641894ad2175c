"""Where evalkit keeps data, built models and reference features between runs."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root(override: str | os.PathLike | None = None) -> Path:
    """`override`, else $EVALKIT_CACHE, else ~/.cache/evalkit (not created)."""
    root = override or os.environ.get("EVALKIT_CACHE") or Path.home() / ".cache" / "evalkit"
    return Path(root).expanduser()


def cache_dir(*parts: str) -> Path:
    """A folder inside the cache root, created on demand."""
    path = cache_root().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
