"""Sequential vs resident loading of a cascade's parts (text encoder, stage I, stage II, ...).

`sequential`: load a part, run the whole batch through it, free it, load the next one, so
peak memory is that of the largest part, not of their sum. `resident`: keep every part
loaded after first use (faster when memory allows: nothing is re-read per batch).
"""

from __future__ import annotations

import ctypes
import gc
import sys
import weakref
from typing import Any, Callable


def _probe(part: Any):
    """A weak reference to one parameter of the part, to tell whether freeing it worked."""
    candidates = [part] + list(getattr(part, "components", {}).values()) + list(getattr(part, "__dict__", {}).values())
    for obj in candidates:
        params = getattr(obj, "parameters", None)
        if callable(params):
            for p in params():
                return weakref.ref(p)
    return None


def free_memory(probe=None) -> None:
    """Drop unreachable tensors and hand freed memory back (CUDA cache, glibc heap).

    A full gc pass costs ~0.3 s with torch and transformers imported, so it runs only when
    the probe (a weak reference into the freed part) shows reference counting was not enough.
    """
    if probe is None or probe() is not None:
        gc.collect()
    try:
        import torch

        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.empty_cache()
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    if sys.platform.startswith("linux"):
        try:  # without this glibc keeps freed heap pages, and CPU RSS never drops between stages
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass


class PartLoader:
    """Runs work on a part loaded on demand; frees it afterwards unless loading is resident.

    The part is passed to `work` and never returned, so no caller keeps a reference that
    would stop it being freed.
    """

    def __init__(self, mode: str):
        self.mode = mode
        self._resident: dict[str, Any] = {}
        self.loads: list[str] = []  # names in load order, for tests and logs

    def run(self, name: str, load: Callable[[], Any], work: Callable[[Any], Any]) -> Any:
        part = self._resident.get(name)
        probe = None
        if part is None:
            part = load()
            self.loads.append(name)
            if self.mode == "resident":
                self._resident[name] = part
            else:
                probe = _probe(part)
        try:
            return work(part)
        finally:
            del part
            if self.mode == "sequential":
                free_memory(probe)

    def clear(self) -> None:
        self._resident.clear()
        free_memory()
