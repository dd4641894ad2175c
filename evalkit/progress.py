"""Progress bars on a terminal, quiet elsewhere (CI logs)."""

from __future__ import annotations

import os
import sys
from typing import Iterable, TypeVar

T = TypeVar("T")


def progress(items: Iterable[T], desc: str, unit: str = "it", total: int | None = None) -> Iterable[T]:
    from tqdm.auto import tqdm

    quiet = not sys.stderr.isatty() or os.environ.get("EVALKIT_QUIET")
    return tqdm(items, desc=desc, unit=unit, total=total, disable=bool(quiet), leave=False)
