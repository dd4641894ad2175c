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


def hub_revision(repo_id: str, revision: str | None) -> str:
    """The commit a hub revision (a branch or tag, default main) resolves to: from the local
    Hugging Face cache, else asked of the Hub when online, else the name as given. A run
    key built from it changes when the repository does, not when the model is downloaded."""
    import re

    name = revision or "main"
    if re.fullmatch(r"[0-9a-f]{40}", name):
        return name
    try:
        from huggingface_hub import HfApi, constants

        ref = Path(constants.HF_HUB_CACHE) / f"models--{repo_id.replace('/', '--')}" / "refs" / name
        if ref.is_file():
            return ref.read_text(encoding="utf-8").strip()
        if not constants.HF_HUB_OFFLINE:
            return HfApi().model_info(repo_id, revision=name, timeout=10).sha or name
    except Exception:  # unreachable hub, unknown repo: the load will say so; keep the name
        pass
    return name


def describe(ref: str, path: Path | None, revision: str | None) -> dict:
    """Fingerprint part for one model: directory hash for local folders, id + resolved commit for hub ids."""
    if path is not None:
        return {"ref": ref, "dir_sha": dir_fingerprint(path)}
    return {"ref": ref, "revision": hub_revision(ref, revision)}


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
