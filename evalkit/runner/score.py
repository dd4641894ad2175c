"""Scoring stage: features (cached per run and extractor) and the metrics over them.

With several processes (evalkit.runner.distributed) each extracts every world_size-th
missing image, the features are gathered so that every process holds the same full
matrices, and every process computes the metrics identically; only the main process
writes. Gathering the features, not just sums and covariances, is what KID's subsets,
CMMD's kernel, FID's bootstrap and the per-run feature cache need.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

from evalkit import registry
from evalkit.config import BenchmarkSpec
from evalkit.images import open_rgb
from evalkit.metrics.base import MetricResult
from evalkit.metrics.clip_models import load_clip
from evalkit.metrics.features import InceptionExtractor
from evalkit.metrics.functional.frechet import mean_and_cov
from evalkit.metrics.reference import load_stats, reference_features, resolve_reference_folder
from evalkit.options import call_with_options
from evalkit.progress import progress
from evalkit.runner.distributed import ProcessFailed, SingleProcess
from evalkit.store import RunStore, atomic_write


def extract_sharded(procs, extractor, paths: list[Path]) -> np.ndarray:
    """Features of the images at `paths`, in order, on every process.

    Process r extracts paths[r::world_size] (balanced whatever the batch size; a
    feature does not depend on the other images in its batch, up to round-off), then
    all are gathered. The gather also checks that every process was asked for the
    same images.
    """
    def mine():
        chunk = paths[procs.rank :: procs.world_size]
        images = (np.asarray(open_rgb(p)) for p in chunk)
        if procs.is_main:  # one progress display for the group
            images = progress(images, desc=f"features {extractor.key}", unit="img", total=len(chunk))
        feats = extractor.extract(images) if chunk else None
        return _digest(paths), feats

    parts = procs.run(mine, gather=True)
    if len({digest for digest, _ in parts}) != 1:
        raise ProcessFailed("processes disagree on which images need features (is the run directory shared?)")
    shards = [(r, f) for r, (_, f) in enumerate(parts) if f is not None and len(f)]
    if not shards:
        return np.zeros((0, 0), np.float32)
    first = shards[0][1]
    out = np.empty((len(paths), first.shape[1]), first.dtype)
    for r, feats in shards:
        out[r :: procs.world_size] = feats
    return out


def _digest(paths: list[Path]) -> str:
    return hashlib.sha256("\n".join(map(str, paths)).encode()).hexdigest()


def warm_reference_cache(procs, folder: Path, extractor) -> None:
    """Fill the reference-feature cache (the file reference_features reads) with every
    process extracting a share of the images."""
    from evalkit.images import list_images
    from evalkit.metrics.reference import reference_cache_path

    files = list_images(folder)
    path, _ = reference_cache_path(folder, files, extractor)
    if procs.run(path.is_file, here=procs.is_main, gather=True)[0]:
        return
    feats = extract_sharded(procs, extractor, files)
    procs.run(lambda: atomic_write(path, lambda f: np.save(f, feats)), here=procs.is_local_main)


class ScoringContext:
    """What metrics need from a run: its samples, images, and cached features."""

    def __init__(self, store: RunStore, samples, spec: BenchmarkSpec, processes=None):
        self.store, self.samples, self.spec = store, samples, spec
        self.procs = processes or SingleProcess()
        self._extractors: dict = {}
        self._generated: dict = {}
        self._reference: dict = {}
        self._clips: dict = {}
        self.features_extracted = 0  # images run through an extractor in this context

    # --- images ---------------------------------------------------------------------
    def paths(self) -> list[Path]:
        return [self.store.root / p for p in self.samples["path"]]

    def pil_images(self):
        return (open_rgb(p) for p in self.paths())

    # --- feature extractors (Inception, CLIP) and their cached features ----------------------
    def inception(self, device: str = "cpu", batch_size: int = 32) -> InceptionExtractor:
        resize = self.spec.reference.resize if self.spec.reference else "clean"
        key = (resize, device)
        if key not in self._extractors:
            self._extractors[key] = InceptionExtractor(resize, device, batch_size)
        return self._extractors[key]

    def clip(self, backend: str, model: str, pretrained: str | None, device: str = "cpu", batch_size: int = 32):
        """One loaded CLIP model per setting, shared by CLIP score and CMMD."""
        key = (backend, model, pretrained, device)
        if key not in self._clips:
            self._clips[key] = self.procs.first_on_local_main(
                lambda: load_clip(backend, model, pretrained, device, batch_size)
            )
        return self._clips[key]

    def generated_features(self, extractor) -> np.ndarray:
        """Features of the run's images, cached in features/<key>.npz by image sha256.

        Only images whose sha256 is not in the cache are extracted, so re-scoring (or
        scoring with another metric on the same features) extracts nothing again.
        With several processes, each extracts a share and all get every feature.
        """
        if extractor.key in self._generated:
            return self._generated[extractor.key]
        path = self.store.features_dir / f"{extractor.key}.npz"
        cached: dict[str, np.ndarray] = {}
        if path.is_file():
            with np.load(path, allow_pickle=False) as data:
                cached = dict(zip(data["sha256"].tolist(), data["features"]))
        shas = self.samples["sha256"].tolist()
        todo = [i for i, s in enumerate(shas) if s not in cached]
        if todo or self.procs.world_size > 1:  # every process joins the gather, even with nothing to do
            paths = self.paths()
            new = extract_sharded(self.procs, extractor, [paths[i] for i in todo])
            self.features_extracted += len(todo)
            cached.update({shas[i]: f for i, f in zip(todo, new)})
        feats = np.stack([cached[s] for s in shas])
        if todo:
            def write(f):
                buf = io.BytesIO()
                np.savez(buf, sha256=np.array(shas), features=feats)
                f.write(buf.getvalue())

            self.procs.run(lambda: atomic_write(path, write), here=self.procs.is_main)
        self._generated[extractor.key] = feats
        return feats

    def reference_features(self, extractor) -> tuple[np.ndarray, dict]:
        if extractor.key not in self._reference:
            folder = self.procs.first_on_local_main(lambda: resolve_reference_folder(self.spec.reference.images))
            if self.procs.world_size > 1:
                warm_reference_cache(self.procs, folder, extractor)
            self._reference[extractor.key] = self.procs.first_on_local_main(
                lambda: reference_features(folder, extractor)
            )
        return self._reference[extractor.key]

    def reference_stats(self, extractor) -> tuple[np.ndarray, np.ndarray, dict]:
        if self.spec.reference.stats:
            declared = "resize" in self.spec.reference.model_fields_set
            return load_stats(self.spec.reference.stats, extractor, resize_declared=declared)
        feats, info = self.reference_features(extractor)
        mu, sigma = mean_and_cov(feats)
        return mu, sigma, info


def compute_metrics(ctx: ScoringContext) -> dict[str, MetricResult]:
    results = {}
    for name, options in ctx.spec.metrics.items():
        cls = registry.resolve("metric", name)
        metric = call_with_options("metric", name, cls, options)
        results[name] = metric.compute(ctx)
    return results
