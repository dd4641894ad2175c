"""Scoring folders of images made anywhere: `evalkit score`, `clip-score` and `fid-stats`.

A folder becomes an ImageSet and goes through the same ScoringContext and metric classes
as a run (same options, CIs, per-category estimates and feature cache), sharded the same
way under accelerate/torchrun. Images are matched to prompts by `<prompt-id>/<n>.<ext>` or
`<prompt-id>.<ext>`; given a run directory, only the images its samples.parquet lists
are scored (not the report's plots).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from evalkit.cache import cache_dir
from evalkit.config import ReferenceSpec, metric
from evalkit.errors import UserError
from evalkit.fingerprint import file_hashes
from evalkit.images import list_images
from evalkit.results import RunResults
from evalkit.runner.distributed import current
from evalkit.runner.scoring import (
    ImageSet, ScoringContext, compute_metrics, dataset_reference_features, reference_features,
)


def _folder(path: str) -> Path:
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise UserError(f"image folder not found: {folder}")
    return folder


def _rows(folder: Path, prompts) -> tuple[list[dict], list[str]]:
    """One row per image (relative path, prompt id, index, text, category), and what was skipped."""
    if (folder / "samples.parquet").is_file():  # a run directory: exactly its images
        import pandas as pd

        frame = pd.read_parquet(folder / "samples.parquet")
        return frame[["prompt_id", "index", "text", "category", "path"]].to_dict("records"), []
    files, others = list_images(folder)
    skipped = [f"{p.relative_to(folder)} (not an image format evalkit reads)" for p in others]
    by_id = {p.id: p for p in prompts} if prompts is not None else None
    rows, seen = [], Counter()
    for path in files:
        rel = path.relative_to(folder)
        pid = rel.parent.as_posix() if len(rel.parts) > 1 else path.stem
        if by_id is None:
            rows.append({"prompt_id": rel.as_posix(), "index": 0, "text": "", "category": None, "path": rel.as_posix()})
        elif pid in by_id:
            p = by_id[pid]
            rows.append({"prompt_id": pid, "index": seen[pid], "text": p.text, "category": p.category,
                         "path": rel.as_posix()})
            seen[pid] += 1
        else:
            skipped.append(f"{rel} (no prompt with id {pid!r})")
    return rows, skipped


def folder_images(path: str, prompts=None) -> tuple[ImageSet, list[str]]:
    """The images of a folder (matched to `prompts` when given), and the files skipped."""
    import pandas as pd

    folder = _folder(path)
    rows, skipped = _rows(folder, prompts)
    if not rows:
        raise UserError(f"no images in {folder} match the prompt ids (expected <id>/<n>.png or <id>.png)")
    samples = pd.DataFrame(rows)
    samples["sha256"] = file_hashes([folder / p for p in samples["path"]])
    return ImageSet(folder, samples, cache_dir("features")), skipped


def reference_spec(reference: str | None, resize: str | None) -> ReferenceSpec | None:
    """`--reference` (a folder or an .npz) and `--resize` as a ReferenceSpec; resize counts as declared only if given."""
    if reference is None:
        return None
    kind = "stats" if reference.endswith(".npz") else "images"
    return ReferenceSpec.model_validate({kind: reference, **({"resize": resize} if resize else {})})


def score_folder(images: str, reference: ReferenceSpec | None, metrics: dict[str, dict],
                 prompts=None) -> tuple[RunResults, int]:
    """Score a folder with the named metrics (key -> options), exactly as a run would;
    returns the results and how many images went through an extractor."""
    specs = {key: metric(key, opts) for key, opts in metrics.items()}
    for key, spec in specs.items():
        needs = spec.cls.needs_reference
        if needs != "nothing" and (reference is None or (needs == "features" and not reference.images)):
            what = "reference images (a folder)" if needs == "features" else "--reference (a folder or .npz)"
            raise UserError(f"{key} needs {what}")
        if spec.cls.needs_texts and prompts is None:
            raise UserError(f"{key} scores images against their prompts: pass --prompts FILE")
    image_set, skipped = folder_images(images, prompts)
    ctx = ScoringContext(image_set, reference, current())
    results = compute_metrics(ctx, specs)
    notes = (f"skipped {len(skipped)} file(s): {'; '.join(skipped[:5])}{' ...' if len(skipped) > 5 else ''}",) if skipped else ()
    samples = image_set.samples
    run = RunResults(Path(images).name, len(samples), int(samples["prompt_id"].nunique()), results, notes)
    return run, ctx.features_extracted


def fid_stats(source, out: str, resize: str, device: str = "cpu", batch_size: int = 32) -> dict:
    """FID reference statistics of a folder (a path) or a dataset's images (a DatasetImages),
    extracted in one pass (sharded under a launcher) through the shared feature cache."""
    from evalkit.metrics.reference import build_stats, save_stats
    from evalkit.registry import EXTRACTORS

    from evalkit.devices import check_device

    procs = current()
    if isinstance(source, str):
        _folder(source)
    check_device(device)
    options = {"resize": resize, "device": device, "batch_size": batch_size}
    extractor = procs.first_on_local_main(lambda: EXTRACTORS.load("inception").create(**options))
    if isinstance(source, str):
        feats, info = reference_features(procs, source, extractor)
    else:
        feats, info = dataset_reference_features(procs, source, extractor)
    if len(feats) < 2:
        raise UserError(f"{info['reference']} has {len(feats)} image(s); reference statistics need at least 2")
    stats = build_stats(feats, info, extractor, device)
    if "reference_dataset" in info:
        stats["dataset"] = json.dumps(info["reference_dataset"], sort_keys=True)
    procs.run(lambda: save_stats(out, stats), here=procs.is_main)
    return {k: v for k, v in stats.items() if k not in ("mu", "sigma")} | {"output": str(out)}


def import_stats(npz: str, out: str, resize: str, source: str) -> dict:
    """A pytorch-fid / clean-fid .npz (mu, sigma) rewritten as evalkit statistics with the
    declared resize mode and source."""
    from evalkit.metrics.reference import import_foreign_stats, save_stats
    from evalkit.registry import EXTRACTORS

    stats = import_foreign_stats(npz, EXTRACTORS.load("inception").create(resize=resize), source)
    procs = current()
    procs.run(lambda: save_stats(out, stats), here=procs.is_main)
    return {k: v for k, v in stats.items() if k not in ("mu", "sigma")} | {"output": str(out)}
