"""Scoring folders of images directly, without a run: `evalkit score`, `clip-score`, `fid-stats`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evalkit.errors import UserError
from evalkit.images import IMAGE_EXTENSIONS, open_rgb

FOLDER_METRICS = ("fid", "kid")


def _folder(path: str) -> Path:
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise UserError(f"image folder not found: {folder}")
    return folder


def fid_stats(images: str, out: str, resize: str) -> dict:
    from evalkit.metrics.features import InceptionExtractor
    from evalkit.metrics.reference import build_stats, save_stats

    from evalkit.metrics.reference import resolve_reference_folder

    stats = build_stats(resolve_reference_folder(images), InceptionExtractor(resize))
    save_stats(out, stats)
    return {k: v for k, v in stats.items() if k not in ("mu", "sigma")} | {"output": str(out)}


def score_folder(images: str, reference: str, metrics: list[str], resize: str, resize_declared: bool,
                 kid_subset_size: int = 1000, kid_subsets: int = 100, fid_bootstrap: int = 20) -> dict:
    """FID/KID of a folder against a reference folder or an .npz of statistics."""
    from evalkit.metrics.features import INCEPTION_DIM, InceptionExtractor
    from evalkit.metrics.fid import fid_with_ci
    from evalkit.metrics.functional.frechet import rank_deficiency_warning
    from evalkit.metrics.functional.kernel import kid_subsets as kid
    from evalkit.metrics.reference import load_stats, reference_features, resolve_reference_folder

    unknown = [m for m in metrics if m not in FOLDER_METRICS]
    if unknown:
        raise UserError(f"`evalkit score` computes {', '.join(FOLDER_METRICS)}; got '{unknown[0]}' (use clip-score for CLIP)")
    extractor = InceptionExtractor(resize)
    gen, gen_info = reference_features(_folder(images), extractor)
    out: dict = {**extractor.provenance(), "n": len(gen), "images_files_sha256": gen_info["reference_files_sha256"]}
    ref_path = Path(reference).expanduser()
    if ref_path.suffix == ".npz":
        if "kid" in metrics:
            raise UserError("kid needs reference images, not statistics: pass --reference a folder")
        mu_ref, sigma_ref, ref_info = load_stats(ref_path, extractor, resize_declared)
        ref = (mu_ref, sigma_ref)
    else:
        ref, ref_info = reference_features(resolve_reference_folder(reference), extractor)
    out.update(ref_info)
    warnings = []
    if "fid" in metrics:
        out.update(fid_with_ci(gen, ref, fid_bootstrap))
        out["fid_bootstrap"] = fid_bootstrap
        warnings += [w for w in (rank_deficiency_warning(len(gen), INCEPTION_DIM),) if w]
    if "kid" in metrics:
        try:
            mmds = kid(gen, ref, kid_subset_size, kid_subsets)
        except ValueError as err:
            raise UserError(str(err)) from None
        out.update({"kid/mean": float(np.mean(mmds)), "kid/std": float(np.std(mmds)),
                    "kid_subset_size": kid_subset_size, "kid_subsets": kid_subsets})
    out["warnings"] = warnings
    return out


def _image_for_prompt(folder: Path, prompt_id: str) -> list[Path]:
    """Images of one prompt: <folder>/<id>/*.<ext> or <folder>/<id>.<ext>."""
    sub = folder / prompt_id
    if sub.is_dir():
        return sorted(p for p in sub.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
    return [p for ext in IMAGE_EXTENSIONS if (p := folder / f"{prompt_id}{ext}").is_file()]


def clip_score_folder(images: str, prompts: str, model: str, backend: str, pretrained: str | None) -> dict:
    """CLIP score of images laid out by prompt id against the prompts file's texts."""
    import pandas as pd

    from evalkit.metrics.clip_models import load_clip
    from evalkit.metrics.clip_score import clip_scores, mean_with_ci
    from evalkit.suites.files import load as load_prompts

    folder = _folder(images)
    rows = [(p, path) for p in load_prompts(prompts) for path in _image_for_prompt(folder, p.id)]
    if not rows:
        raise UserError(f"no images in {folder} match the prompt ids of {prompts} (expected <id>/<n>.png or <id>.png)")
    clip = load_clip(backend, model, pretrained)
    img = clip.extract(open_rgb(path) for _, path in rows)
    texts = list(dict.fromkeys(p.text for p, _ in rows))
    txt = clip.text_embeddings(texts)
    index = {t: i for i, t in enumerate(texts)}
    scores = clip_scores(img, txt[[index[p.text] for p, _ in rows]])
    mean, low, high = mean_with_ci(scores, [p.id for p, _ in rows])
    out = {"clip_score/mean": mean, "clip_score/ci95_low": low, "clip_score/ci95_high": high,
           "n": len(scores), "prompts_truncated": clip.count_truncated(texts), **clip.provenance()}
    frame = pd.DataFrame({"category": [p.category for p, _ in rows], "id": [p.id for p, _ in rows], "score": scores})
    for cat, group in frame.dropna(subset=["category"]).groupby("category"):
        out[f"clip_score/{cat}"] = float(group["score"].mean())
    return out
