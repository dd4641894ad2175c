"""Scoring: one path for `evalkit run`, `score`, `clip-score` and `fid-stats`.

A ScoringContext holds the images being scored (an ImageSet: a run's samples, or a
folder's), the reference set, and the processes sharing the work. Metrics ask it for
extractors and features; features come from a FeatureCache keyed by image sha256 (the
run's own features/ folder, or the shared cache for folders and reference sets), and
whatever is missing is extracted here — split across processes under accelerate/torchrun,
committed chunk by chunk, then gathered so every process holds the same matrices and
computes the metrics identically (only the main process writes results).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evalkit import registry
from evalkit.cache import cache_dir
from evalkit.config import MetricSpec, ReferenceSpec
from evalkit.feature_cache import FeatureCache, chunk_size
from evalkit.fingerprint import file_hashes, files_fingerprint
from evalkit.images import list_images
from evalkit.metrics.extractors.loader import extract_paths
from evalkit.options import validate
from evalkit.progress import progress
from evalkit.results import MetricResult
from evalkit.runner.distributed import SingleProcess


@dataclass(frozen=True)
class ImageSet:
    """Images to score: `samples` (prompt_id, index, text, category, path, sha256; paths
    relative to `root`) and the folder their features are cached in."""

    root: Path
    samples: Any  # pandas DataFrame
    features_dir: Path

    def paths(self) -> list[Path]:
        return [self.root / p for p in self.samples["path"]]


def extract_missing(procs, extractor, paths: list[Path], shas: list[str], cache: FeatureCache) -> tuple[dict, int]:
    """(features of every image by sha256, how many were extracted): those not in `cache` are.

    The main process decides what is missing; process r extracts every world_size-th of
    it, committing a chunk at a time; all results are gathered to every process.
    """
    have = procs.run(lambda: cache.lookup(shas), here=procs.is_main, gather=True)[0]
    todo = [i for i, s in enumerate(shas) if s not in have]
    mine = todo[procs.rank :: procs.world_size]

    def extract() -> dict:
        done: dict = {}
        size = chunk_size()
        chunks = [mine[i : i + size] for i in range(0, len(mine), size)]
        shown = progress(chunks, desc=f"features {extractor.key}", unit="chunk") if procs.is_main else chunks
        for chunk in shown:
            feats = extract_paths(extractor, [paths[i] for i in chunk])
            cache.commit([shas[i] for i in chunk], feats)
            done.update(zip((shas[i] for i in chunk), feats))
        return done

    parts = procs.run(extract, gather=True) if todo or procs.world_size > 1 else [{}]
    for part in parts[1:] if procs.is_main else ():  # other machines' chunks, if their cache is not ours
        if part:
            keys = list(part)
            cache.commit(keys, np.stack([part[k] for k in keys]))
    for part in parts:
        have.update(part)
    return have, len(todo)


class ScoringContext:
    """What metrics need: the images, the reference set, shared extractors and features."""

    def __init__(self, images: ImageSet, reference: ReferenceSpec | None = None, processes=None):
        self.images, self.reference = images, reference
        self.procs = processes or SingleProcess()
        self._extractors: dict = {}
        self._features: dict = {}
        self._reference: dict = {}
        self.features_extracted = 0  # images run through an extractor in this context

    @property
    def samples(self):
        return self.images.samples

    def extractor(self, name: str, options: Any = None):
        """One loaded extractor per (name, options), shared by the metrics that use it."""
        cls = registry.EXTRACTORS.load(name)
        raw = options.model_dump() if hasattr(options, "model_dump") else dict(options or {})
        opts = validate(cls.Options, {k: v for k, v in raw.items() if k in cls.Options.model_fields}, f"extractor {name}")
        key = (name, opts.model_dump_json())
        if key not in self._extractors:
            self._extractors[key] = self.procs.first_on_local_main(lambda: cls(opts))
        return self._extractors[key]

    def inception(self, options: Any = None):
        """The Inception extractor with the reference's resize mode and `options`' device, batch size, workers."""
        raw = options.model_dump() if hasattr(options, "model_dump") else dict(options or {})
        return self.extractor("inception", {**raw, "resize": self.reference.resize if self.reference else "clean"})

    def features(self, extractor) -> np.ndarray:
        """Features of the scored images, in samples order (cached; only new images are extracted)."""
        if extractor.key not in self._features:
            shas = self.samples["sha256"].tolist()
            cache = FeatureCache(self.images.features_dir / extractor.key)
            found, extracted = extract_missing(self.procs, extractor, self.images.paths(), shas, cache)
            self.features_extracted += extracted
            self._features[extractor.key] = np.stack([found[s] for s in shas])
        return self._features[extractor.key]

    def reference_features(self, extractor) -> tuple[np.ndarray, dict]:
        """Features of every reference image (shared cache), and the set's provenance."""
        if extractor.key not in self._reference:
            self._reference[extractor.key] = reference_features(self.procs, self.reference.images, extractor)
        return self._reference[extractor.key]

    def reference_stats(self, extractor) -> tuple[np.ndarray, np.ndarray, dict]:
        from evalkit.metrics.functional.frechet import mean_and_cov
        from evalkit.metrics.reference import load_stats

        if self.reference.stats:
            declared = "resize" in self.reference.model_fields_set
            return load_stats(self.reference.stats, extractor, resize_declared=declared)
        feats, info = self.reference_features(extractor)
        return (*mean_and_cov(feats), info)


def reference_features(procs, images: str, extractor) -> tuple[np.ndarray, dict]:
    """Features of a reference folder, by image sha256 in the shared cache."""
    from evalkit.metrics.reference import resolve_reference_folder

    folder = procs.first_on_local_main(lambda: resolve_reference_folder(images))
    files, _ = list_images(folder)
    shas = procs.run(lambda: file_hashes(files), here=procs.is_main, gather=True)[0]
    cache = FeatureCache(cache_dir("features") / extractor.key)
    found, _ = extract_missing(procs, extractor, files, shas, cache)
    info = {"reference": str(images), "reference_n": len(files),
            "reference_files_sha256": files_fingerprint(folder, files, shas)}
    return np.stack([found[s] for s in shas]), info


def compute_metrics(ctx: ScoringContext, metrics: dict[str, MetricSpec]) -> dict[str, MetricResult]:
    """Every metric of the spec, in order, on the same context (extractors and features shared)."""
    return {name: spec.build().compute(ctx, name) for name, spec in metrics.items()}
