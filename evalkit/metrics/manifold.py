"""kNN manifold metrics on any extractor's features (default DINOv2, as dgm-eval):

- `precision_recall` (Kynkäänniemi et al. 2019, k = 3): torch-fidelity 0.4's `prc`;
- `density_coverage` (Naeem et al. 2020, k = 5): the `prdc` package's.

The values are functional.knn's (exact float64 kNN, memory bounded by chunking;
docs/estimators.md). Each is reported overall and per category (that category's images
against the whole reference), with a 95% CI from the prompt jackknife
(metrics/jackknife.py: each of the `replicates` groups costs one more kNN pass over the
remaining images; `replicates: 0` turns it off) and the sample-size advice of
functional.sample_size. Value keys: `precision`, `recall` (`density`, `coverage`) under
the default metric name, else prefixed with the spec's key (`pr_clip_precision`).
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import numpy as np
from pydantic import Field

from evalkit.metrics.feature_metric import ExtractorChoice, FeatureMetric
from evalkit.metrics.functional.knn import density_coverage, precision_recall
from evalkit.metrics.functional.sample_size import knn_sample_size_warning
from evalkit.metrics.jackknife import as_estimate, jackknife
from evalkit.results import Estimate


class KnnOptions(ExtractorChoice):
    extractor: str = "dinov2"
    replicates: int = Field(20, ge=0)  # jackknife groups of prompts for the CIs (0: none); each one more kNN pass
    seed: int = 0


class PrecisionRecallOptions(KnnOptions):
    k: int = Field(3, ge=1)


class DensityCoverageOptions(KnnOptions):
    k: int = Field(5, ge=1)


class KnnMetric(FeatureMetric, higher_is_better=True, needs_reference="features"):
    """Two kNN-ball values of generated vs reference features, with jackknife CIs."""

    default_name: ClassVar[str]
    parts: ClassVar[tuple[str, str]]
    # each value's range, for clipping its interval: shares are in [0, 1]
    bounds: ClassVar[tuple[tuple[float, float], tuple[float, float]]] = ((0.0, 1.0), (0.0, 1.0))

    def __init__(self, options=None):
        super().__init__(options)
        self.min_images = self.options.k + 2  # a category needs k + 1 images after its jackknife drop

    @abstractmethod
    def values_of(self, gen: np.ndarray, ref: np.ndarray) -> np.ndarray:
        """The two values, as an array."""

    def keys(self, name: str) -> list[str]:
        return list(self.parts) if name == self.default_name else [f"{name}_{p}" for p in self.parts]

    def estimates(self, gen, ref, name: str, samples, category: bool = False) -> tuple[dict, dict]:
        o = self.options
        value = self.values_of(gen, ref)
        try:
            ci = jackknife(lambda rows: self.values_of(gen[rows], ref), value, samples["prompt_id"].to_numpy(),
                           o.replicates, o.seed)
        except ValueError:  # a replicate left k or fewer images: no interval
            ci = None
        out = {}
        for i, key in enumerate(self.keys(name)):
            out[key] = as_estimate(ci[i], len(gen), self.bounds[i]) if ci else Estimate(float(value[i]), n=len(gen))
        return out, {"knn_k": o.k, "knn_replicates": o.replicates}

    def advice(self, n: int, n_ref: int | None, dim: int, name: str) -> str | None:
        return knn_sample_size_warning(n, n_ref if n_ref is not None else n, self.options.k, name)


class PrecisionRecall(KnnMetric):
    """Improved precision and recall (k = 3), equal to torch-fidelity 0.4's prc."""

    Options = PrecisionRecallOptions
    default_name, parts = "precision_recall", ("precision", "recall")

    def values_of(self, gen, ref) -> np.ndarray:
        return np.array(precision_recall(gen, ref, self.options.k))


class DensityCoverage(KnnMetric):
    """Density and coverage (k = 5), equal to the prdc package's."""

    Options = DensityCoverageOptions
    default_name, parts = "density_coverage", ("density", "coverage")
    bounds = ((0.0, np.inf), (0.0, 1.0))  # density exceeds 1 where generated samples crowd real ones

    def values_of(self, gen, ref) -> np.ndarray:
        return np.array(density_coverage(gen, ref, self.options.k))
