"""Scoring stage: features (cached per run and extractor) and the metrics over them."""

from __future__ import annotations

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
from evalkit.store import RunStore, atomic_write


class ScoringContext:
    """What metrics need from a run: its samples, images, and cached features."""

    def __init__(self, store: RunStore, samples, spec: BenchmarkSpec):
        self.store, self.samples, self.spec = store, samples, spec
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
            self._clips[key] = load_clip(backend, model, pretrained, device, batch_size)
        return self._clips[key]

    def generated_features(self, extractor) -> np.ndarray:
        """Features of the run's images, cached in features/<key>.npz by image sha256.

        Only images whose sha256 is not in the cache are extracted, so re-scoring (or
        scoring with another metric on the same features) extracts nothing again.
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
        if todo:
            paths = self.paths()
            new = extractor.extract(np.asarray(open_rgb(paths[i])) for i in todo)
            self.features_extracted += len(todo)
            cached.update({shas[i]: f for i, f in zip(todo, new)})
        feats = np.stack([cached[s] for s in shas])
        if todo:
            def write(f):
                buf = io.BytesIO()
                np.savez(buf, sha256=np.array(shas), features=feats)
                f.write(buf.getvalue())

            atomic_write(path, write)
        self._generated[extractor.key] = feats
        return feats

    def reference_features(self, extractor) -> tuple[np.ndarray, dict]:
        if extractor.key not in self._reference:
            folder = resolve_reference_folder(self.spec.reference.images)
            self._reference[extractor.key] = reference_features(folder, extractor)
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
