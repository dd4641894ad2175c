"""Reference sets: a folder of real images (features: evalkit.runner.scoring), or saved
FID statistics (.npz): evalkit's own, or pytorch-fid's / clean-fid's."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np

from evalkit import builtin
from evalkit.errors import UserError
from evalkit.metrics.functional.frechet import check_stats
from evalkit.store import atomic_write


def resolve_reference_folder(ref: str) -> Path:
    """The folder of real images `ref` names (or the built-in procedural one)."""
    if builtin.is_builtin(ref):
        return builtin.resolve(ref)
    path = Path(ref).expanduser()
    if not path.is_dir():
        raise UserError(f"reference image folder not found: {path} (set reference.images to a folder of real images)")
    return path


def build_stats(feats: np.ndarray, info: dict, extractor, device: str | None = None) -> dict:
    """FID reference statistics of reference features, with everything needed to check them
    later; the covariance on `device` when it is a CUDA one (float64 either way)."""
    from evalkit.metrics.functional.frechet_ci import GaussianStats
    from evalkit.metrics.functional.frechet_torch import torch_device

    stats = GaussianStats.of(feats, torch_device(device))
    mu, sigma = stats.mu, stats.sigma
    return {
        "mu": mu, "sigma": sigma, "n": len(feats), "source": info["reference"],
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
    problem = check_stats(mu, sigma, extractor.dim)
    if problem:
        raise UserError(f"reference statistics {path}: {problem}; rebuild them with `evalkit fid-stats`")
    info = {"reference": str(path), "reference_n": int(arrays["n"]) if "n" in arrays else None, **meta}
    return mu.astype(np.float64), sigma.astype(np.float64), info


def import_foreign_stats(path: str | os.PathLike, extractor, source: str) -> dict:
    """pytorch-fid / clean-fid statistics (mu, sigma) as evalkit's, with `extractor`'s declared
    resize mode and the given source. Their Inception is the same TF-2015 network (ported), so
    the extractor is recorded; its weights file is not ours, so weights_sha256 is not."""
    from evalkit.store import sha256_file

    mu, sigma, info = load_stats(path, extractor, resize_declared=True)
    if "extractor" in info or "resize" in info:
        raise UserError(f"{path} already holds evalkit statistics (resize {info.get('resize')}); use it as it is")
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise UserError(f"{path} has non-finite values in mu or sigma; it is not usable reference statistics")
    ours = {k: v for k, v in extractor.provenance().items() if k != "weights_sha256"}
    return {"mu": mu, "sigma": sigma, "source": source, "imported_sha256": sha256_file(Path(path)), **ours}
