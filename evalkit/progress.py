"""Progress: a bar per stage on a terminal; plain log lines elsewhere (CI logs).

EVALKIT_QUIET=1 silences both (the test suite sets it).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")


def _plain(items: Iterable[T], total: int | None, desc: str, unit: str) -> Iterator[T]:
    """About ten lines per stage (every 10% of `total`), with the count and the elapsed time."""
    step = max(1, (total or 10) // 10)
    start = time.perf_counter()
    for i, item in enumerate(items, 1):
        yield item
        if i % step == 0 or i == total:
            of = f"/{total}" if total else ""
            print(f"[evalkit] {desc}: {i}{of} {unit} ({time.perf_counter() - start:.1f}s)", file=sys.stderr, flush=True)


def progress(items: Iterable[T], desc: str, unit: str = "it", total: int | None = None) -> Iterable[T]:
    """Wrap an iterable (lazily: generators stay generators) with progress reporting."""
    if os.environ.get("EVALKIT_QUIET"):
        return items
    total = total if total is not None else (len(items) if hasattr(items, "__len__") else None)
    if sys.stderr.isatty():
        from tqdm.auto import tqdm

        return tqdm(items, desc=desc, unit=unit, total=total, leave=False)
    return _plain(items, total, desc, unit)
