"""FID: Fréchet distance of Inception pool3 features, generated vs reference.

Its 95% CI is fid ± 1.96 · (bootstrap standard deviation over the generated images,
resampled with replacement). A percentile interval would be off-centre: resampling
with replacement repeats images, and FID rises as sets lose distinct samples.
"""

from __future__ import annotations

from pydantic import Field

from evalkit.metrics.extractors.options import ExtractorOptions
from evalkit.metrics.feature_metric import FeatureMetric
from evalkit.metrics.functional.frechet import (
    frechet_distance_features,
    frechet_distance_to_stats,
    rank_deficiency_warning,
)
from evalkit.metrics.stats import normal_bootstrap_estimate
from evalkit.results import Estimate


def fid_with_ci(gen, reference, bootstrap: int = 20, seed: int = 0) -> Estimate:
    """FID (and its CI when bootstrap > 1) of generated features against either reference
    features (an array) or reference statistics (a (mu, sigma) tuple)."""
    if isinstance(reference, tuple):
        mu_ref, sigma_ref = reference

        def fid_of(feats):
            return frechet_distance_to_stats(feats, mu_ref, sigma_ref)
    else:
        def fid_of(feats):
            return frechet_distance_features(feats, reference)

    return normal_bootstrap_estimate(fid_of(gen), lambda idx: fid_of(gen[idx]), len(gen), bootstrap, seed, floor=0.0)


class FIDOptions(ExtractorOptions):
    bootstrap: int = Field(20, ge=0)  # resamples for the CI (0: none)
    seed: int = 0


class FrechetMetric(FeatureMetric):
    """A Fréchet distance with its bootstrap CI (FID, FD on any extractor)."""

    def estimates(self, gen, ref, name: str, category: bool = False) -> tuple[dict, dict]:
        o = self.options
        return {name: fid_with_ci(gen, ref, o.bootstrap, o.seed)}, {"fid_bootstrap": o.bootstrap}

    def advice(self, n: int, n_ref: int | None, dim: int, name: str) -> str | None:
        return rank_deficiency_warning(n, dim, name.upper() if name == "fid" else name)


class FID(FrechetMetric, higher_is_better=False, needs_reference="stats"):
    """Frechet Inception Distance (Inception-v3 TF-2015 pool3, 2048-d)."""

    Options = FIDOptions

    def reference(self, ctx, extractor):
        if ctx.reference.stats:
            mu, sigma, ref_info = ctx.reference_stats(extractor)
            return (mu, sigma), ref_info
        return ctx.reference_features(extractor)
