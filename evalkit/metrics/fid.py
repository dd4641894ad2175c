"""FID: Fréchet distance of Inception pool3 features, generated vs reference."""

from __future__ import annotations

from evalkit.metrics.base import MetricResult
from evalkit.metrics.features import INCEPTION_DIM
from evalkit.metrics.functional.frechet import frechet_distance, mean_and_cov, rank_deficiency_warning


class FID:
    name = "fid"
    higher_is_better = False

    def __init__(self, device: str = "cpu", batch_size: int = 32):
        self.device, self.batch_size = device, batch_size

    def compute(self, ctx) -> MetricResult:
        extractor = ctx.inception(self.device, self.batch_size)
        gen = ctx.generated_features(extractor)
        mu_ref, sigma_ref, ref_info = ctx.reference_stats(extractor)
        mu_gen, sigma_gen = mean_and_cov(gen)
        warnings = [w for w in (rank_deficiency_warning(len(gen), INCEPTION_DIM),) if w]
        value = frechet_distance(mu_gen, sigma_gen, mu_ref, sigma_ref)
        provenance = {**extractor.provenance(), **ref_info, "n": len(gen)}
        return MetricResult({"fid": value}, provenance, warnings)
