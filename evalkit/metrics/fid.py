"""FID: Fréchet distance of Inception pool3 features, generated vs reference.

Its 95% CI is fid ± 1.96 · (bootstrap standard deviation over the generated images,
resampled with replacement). A percentile interval would be off-centre: resampling
with replacement repeats images, and FID rises as sets lose distinct samples.
"""

from __future__ import annotations

from pydantic import Field

from evalkit.metrics.feature_metric import FeatureMetric
from evalkit.metrics.extractors.inception import INCEPTION_DIM
from evalkit.metrics.extractors.options import ExtractorOptions
from evalkit.metrics.functional.frechet import (
    bootstrap_std,
    frechet_distance_features,
    frechet_distance_to_stats,
    rank_deficiency_warning,
)
from evalkit.results import Estimate, MetricResult

Z95 = 1.959963984540054


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

    value = fid_of(gen)
    if bootstrap <= 1:
        return Estimate(value, n=len(gen))
    half = Z95 * bootstrap_std(lambda idx: fid_of(gen[idx]), len(gen), bootstrap, seed)
    return Estimate(value, max(value - half, 0.0), value + half, n=len(gen))


class FIDOptions(ExtractorOptions):
    bootstrap: int = Field(20, ge=0)  # resamples for the CI (0: none)
    seed: int = 0


class FID(FeatureMetric, higher_is_better=False, needs_reference="stats"):
    """Frechet Inception Distance (Inception-v3 TF-2015 pool3, 2048-d)."""

    Options = FIDOptions

    def compute(self, ctx, name: str) -> MetricResult:
        o = self.options
        extractor, gen = self.generated(ctx, name)
        if ctx.reference.stats:
            mu, sigma, ref_info = ctx.reference_stats(extractor)
            reference = (mu, sigma)
        else:
            reference, ref_info = ctx.reference_features(extractor)
        estimate = fid_with_ci(gen, reference, o.bootstrap, o.seed)
        warnings = tuple(w for w in (rank_deficiency_warning(len(gen), INCEPTION_DIM),) if w)
        provenance = {**extractor.provenance(), **ref_info, "n": len(gen), "fid_bootstrap": o.bootstrap}
        return MetricResult(name, False, {name: estimate}, provenance=provenance, warnings=warnings)
