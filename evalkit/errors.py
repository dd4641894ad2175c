"""User-facing errors: one line saying what went wrong and how to fix it.

`UserError` is raised for bad input anywhere in evalkit. `one_line(err)` turns the
failures a user can cause or fix without reading code (a full disk, a read-only folder,
a missing GPU, a corrupted cache file) into the same kind of line; the CLI prints it and
exits 2, and EVALKIT_DEBUG=1 shows the full traceback instead.
"""

from __future__ import annotations

import errno

DEBUG_ENV = "EVALKIT_DEBUG"


class UserError(Exception):
    """Bad input from the user (spec, file, arguments). The CLI prints it and exits 2."""

    exit_code = 2


_OS_FIXES = {
    errno.ENOSPC: "no space left on the device: free some space (or point --out / EVALKIT_CACHE elsewhere) and re-run",
    errno.EDQUOT: "disk quota exceeded: free some space and re-run",
    errno.EROFS: "the filesystem is read-only: choose a writable --out (or EVALKIT_CACHE)",
    errno.EACCES: "permission denied: choose a folder you can write, or fix its permissions",
    errno.EPERM: "operation not permitted: choose a folder you can write, or fix its permissions",
    errno.ENOTDIR: "a path component is a file, not a folder: choose another --out or remove that file",
    errno.EISDIR: "a folder is in the way of a file: remove it or choose another path",
    errno.ENAMETOOLONG: "a file name is too long: use a shorter run name or output folder",
    errno.EEXIST: "a file is in the way of a folder: remove it or choose another path",
}


def one_line(err: BaseException) -> str | None:
    """The one-line message for an error a user can fix, or None for a real bug."""
    if isinstance(err, UserError):
        return str(err)
    if isinstance(err, OSError) and err.errno in _OS_FIXES:
        where = err.filename if err.filename is not None else "?"
        return f"{where}: {_OS_FIXES[err.errno]}"
    text = str(err)
    if type(err).__name__ == "OutOfMemoryError" or "CUDA out of memory" in text:
        return "the GPU ran out of memory: lower batch_size (or micro_batch_size), or use loading: sequential"
    if isinstance(err, RuntimeError) and ("CUDA" in text or "NCCL" in text) and "error" in text.lower():
        return f"GPU error: {text.splitlines()[0]} (check the driver and device:, or run with device: cpu)"
    return None
