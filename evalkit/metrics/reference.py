"""Reference sets: real images (a folder) or saved statistics, with their features cached.

`builtin:procedural` is a folder of seeded procedural images (shapes on gradients) made
on first use: a stand-in reference for the offline smoke benchmark only.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
import shutil
import tempfile
from pathlib import Path

import numpy as np

from evalkit.cache import cache_dir
from evalkit.errors import UserError
from evalkit.fingerprint import file_digest
from evalkit.images import list_images, open_rgb
from evalkit.store import atomic_write

PROCEDURAL = "builtin:procedural"
_PROCEDURAL_COUNT, _PROCEDURAL_SIZE = 48, 64


def _draw_procedural(seed: int, size: int):
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    top, bottom = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    ramp = np.linspace(0, 1, size)[:, None, None]
    base = (top * (1 - ramp) + bottom * ramp).astype(np.uint8).repeat(size, axis=1)
    img = Image.fromarray(base)
    draw = ImageDraw.Draw(img)
    for _ in range(rng.integers(1, 5)):
        x0, y0 = rng.integers(0, size - 8, 2)
        x1, y1 = x0 + rng.integers(6, size // 2), y0 + rng.integers(6, size // 2)
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([int(x0), int(y0), int(x1), int(y1)], fill=fill)
    return img


def procedural_folder(count: int = _PROCEDURAL_COUNT, size: int = _PROCEDURAL_SIZE) -> Path:
    """The built-in procedural reference folder, made atomically on first use."""
    root = cache_dir("reference")
    final = root / f"procedural-{count}x{size}"
    if final.is_dir():
        return final
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-procedural-", dir=root))
    try:
        for i in range(count):
            _draw_procedural(i, size).save(tmp / f"{i:04d}.png")
        os.replace(tmp, final)
    except OSError:
        if not final.is_dir():
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def resolve_reference_folder(ref: str) -> Path:
    if ref == PROCEDURAL:
        return procedural_folder()
    path = Path(ref).expanduser()
    if not path.is_dir():
        raise UserError(f"reference image folder not found: {path} (set reference.images to a folder of real images)")
    return path


def file_list_fingerprint(folder: Path, files: list[Path]) -> str:
    """Identifies the reference set: relative names and contents of its files."""
    h = hashlib.sha256()
    for p in files:
        h.update(p.relative_to(folder).as_posix().encode() + b"\0" + file_digest(p).encode() + b"\n")
    return h.hexdigest()


def reference_cache_path(folder: Path, files: list[Path], extractor) -> tuple[Path, str]:
    """Where the features of this reference set for this extractor are cached, and the set's fingerprint."""
    fingerprint = file_list_fingerprint(folder, files)
    return cache_dir("features") / f"{extractor.key}-{fingerprint[:16]}.npy", fingerprint


def reference_features(folder: Path, extractor) -> tuple[np.ndarray, dict]:
    """Features of every image in `folder`, cached by extractor key and file-list fingerprint."""
    files = list_images(folder)
    cached, fingerprint = reference_cache_path(folder, files, extractor)
    if cached.is_file():
        feats = np.load(cached)
    else:
        feats = extractor.extract(np.asarray(open_rgb(p)) for p in files)
        atomic_write(cached, lambda f: np.save(f, feats))
    info = {"reference": str(folder), "reference_n": len(files), "reference_files_sha256": fingerprint}
    return feats, info


def build_stats(folder: Path, extractor) -> dict:
    """FID reference statistics of an image folder, with everything needed to check them later."""
    from evalkit.metrics.functional.frechet import mean_and_cov

    feats, info = reference_features(folder, extractor)
    mu, sigma = mean_and_cov(feats)
    return {
        "mu": mu, "sigma": sigma, "n": len(feats), "source": str(folder),
        "files_sha256": info["reference_files_sha256"], **extractor.provenance(),
    }


def save_stats(path: str | os.PathLike, stats: dict) -> Path:
    def write(f):
        buf = io.BytesIO()
        np.savez(buf, **{k: np.asarray(v) for k, v in stats.items()})
        f.write(buf.getvalue())

    return atomic_write(path, write)


def load_stats(path: str | os.PathLike, extractor, resize_declared: bool = True) -> tuple[np.ndarray, np.ndarray, dict]:
    """mu/sigma from an .npz: evalkit's own, or pytorch-fid's / clean-fid's (mu, sigma only).

    Stats made with another extractor or resize mode are refused: their FID would be
    silently wrong. Foreign files record no mode, so the user must declare it.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"reference statistics file not found: {path} (build one with `evalkit fid-stats DIR -o FILE.npz`)")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        mu, sigma = arrays["mu"], arrays["sigma"]
    except (KeyError, ValueError, OSError, zipfile.BadZipFile) as err:
        raise UserError(f"{path} is not a reference statistics .npz with arrays mu and sigma ({err})") from None
    meta = {k: str(arrays[k]) for k in ("extractor", "resize", "weights_sha256", "source", "files_sha256") if k in arrays}
    ours = extractor.provenance()
    for field_name in ("extractor", "weights_sha256", "resize"):
        theirs = meta.get(field_name)
        if theirs is not None and theirs != ours[field_name]:
            fix = (f"rebuild them with `evalkit fid-stats DIR --resize {ours['resize']}` or score with resize {theirs}"
                   if field_name == "resize" else "rebuild them with `evalkit fid-stats`")
            raise UserError(
                f"reference statistics {path} were made with {field_name} '{theirs}' but this run uses "
                f"'{ours[field_name]}': {fix}"
            )
    if "resize" not in meta and not resize_declared:
        raise UserError(
            f"reference statistics {path} do not record their resize mode (pytorch-fid / clean-fid file?): "
            "declare it with reference.resize (or --resize): legacy-tf or clean"
        )
    if mu.shape != (extractor.dim,) or sigma.shape != (extractor.dim, extractor.dim):
        raise UserError(f"reference statistics {path} have shape mu{mu.shape}, expected ({extractor.dim},) for {extractor.key}")
    info = {"reference": str(path), "reference_n": int(arrays["n"]) if "n" in arrays else None, **meta}
    return mu.astype(np.float64), sigma.astype(np.float64), info
