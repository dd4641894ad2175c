"""Where a model comes from: `builtin:<name>`, a local directory, or a hub id.

Shared by the adapters so each reports missing folders and failed loads the same way.
"""

from __future__ import annotations

import os
from pathlib import Path

from evalkit import builtin
from evalkit.errors import UserError
from evalkit.fingerprint import dir_fingerprint


def looks_like_path(ref: str) -> bool:
    """Hub ids are `name` or `org/name`; anything existing or starting like a path is local."""
    return ref.startswith((".", "/", "~")) or os.path.exists(ref)


def local_dir(ref: str, who: str, marker: str, what: str) -> Path | None:
    """The local folder `ref` names (checked to hold `marker`), or None for a hub id."""
    if builtin.is_builtin(ref):
        return builtin.resolve(ref)
    if not looks_like_path(ref):
        return None
    path = Path(ref).expanduser()
    if not (path / marker).exists():
        problem = "does not exist" if not path.exists() else f"has no {marker}"
        raise UserError(f"{who}: {what} folder {path} {problem}; give a folder made by save_pretrained, or a hub id like 'org/model'")
    return path


def describe(ref: str, path: Path | None, revision: str | None) -> dict:
    """Fingerprint part for one model: directory hash for local folders, id + revision for hub ids."""
    if path is not None:
        return {"ref": ref, "dir_sha": dir_fingerprint(path)}
    return {"ref": ref, "revision": revision or "main"}


def load_failed(who: str, source: str, err: Exception) -> UserError:
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return UserError(
        f"{who}: could not load '{source}': {first} "
        "(offline? download it first and pass the local directory instead of the hub id)"
    )


def torch_dtype(name: str):
    import torch

    return getattr(torch, name)


def scheduler_class(name: str, where: str):
    """The diffusers scheduler class called `name`; anything else (a UNet, a typo) is refused."""
    import diffusers

    cls = getattr(diffusers, name, None)
    if not (isinstance(cls, type) and issubclass(cls, diffusers.SchedulerMixin)):
        raise UserError(f"{where}: '{name}' is not a diffusers scheduler class (e.g. DDIMScheduler, DDPMScheduler)")
    return cls
