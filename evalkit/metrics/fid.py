"""FID: Fréchet distance of Inception pool3 features, generated vs reference.

Its 95% CI is fid ± 1.96 · (bootstrap standard deviation over the generated images,
resampled with replacement). A percentile interval would be off-centre: resampling
with replacement repeats images, and FID rises as sets lose distinct samples.
"""

from __future__ import annotations

from evalkit.metrics.base import MetricResult
from evalkit.metrics.features import INCEPTION_DIM
from evalkit.metrics.functional.frechet import (
    bootstrap_std,
    frechet_distance_features,
    frechet_distance_to_stats,
    rank_deficiency_warning,
)

Z95 = 1.959963984540054


def fid_with_ci(gen, reference, bootstrap: int = 20, seed: int = 0) -> dict[str, float]:
    """`fid` (and its CI when bootstrap > 1) of generated features against either
    reference features (an array) or reference statistics (a (mu, sigma) tuple)."""
    if isinstance(reference, tuple):
        mu_ref, sigma_ref = reference

        def fid_of(feats):
            return frechet_distance_to_stats(feats, mu_ref, sigma_ref)
    else:
        def fid_of(feats):
            return frechet_distance_features(feats, reference)

    values = {"fid": fid_of(gen)}
    if bootstrap > 1:
        half = Z95 * bootstrap_std(lambda idx: fid_of(gen[idx]), len(gen), bootstrap, seed)
        values.update({"fid/ci95_low": max(values["fid"] - half, 0.0), "fid/ci95_high": values["fid"] + half})
    return values


class FID:
    name = "fid"
    higher_is_better = False

    def __init__(self, bootstrap: int = 20, seed: int = 0, device: str = "cpu", batch_size: int = 32):
        self.bootstrap, self.seed = bootstrap, seed
        self.device, self.batch_size = device, batch_size

    def compute(self, ctx) -> MetricResult:
        extractor = ctx.inception(self.device, self.batch_size)
        gen = ctx.generated_features(extractor)
        if ctx.spec.reference.stats:
            mu, sigma, ref_info = ctx.reference_stats(extractor)
            reference = (mu, sigma)
        else:
            reference, ref_info = ctx.reference_features(extractor)
        values = fid_with_ci(gen, reference, self.bootstrap, self.seed)
        warnings = [w for w in (rank_deficiency_warning(len(gen), INCEPTION_DIM),) if w]
        provenance = {**extractor.provenance(), **ref_info, "n": len(gen), "fid_bootstrap": self.bootstrap}
        return MetricResult(values, provenance, warnings)
