"""KID: unbiased polynomial-kernel MMD of Inception features over random subsets."""

from __future__ import annotations

import numpy as np

from evalkit.errors import UserError
from evalkit.metrics.base import MetricResult
from evalkit.metrics.functional.kernel import kid_subsets


class KID:
    name = "kid"
    higher_is_better = False

    def __init__(self, subset_size: int = 1000, subsets: int = 100, seed: int = 0, device: str = "cpu", batch_size: int = 32):
        self.subset_size, self.subsets, self.seed = subset_size, subsets, seed
        self.device, self.batch_size = device, batch_size

    def compute(self, ctx) -> MetricResult:
        extractor = ctx.inception(self.device, self.batch_size)
        gen = ctx.generated_features(extractor)
        ref, ref_info = ctx.reference_features(extractor)
        try:
            mmds = kid_subsets(gen, ref, self.subset_size, self.subsets, self.seed)
        except ValueError as err:
            raise UserError(str(err)) from None
        provenance = {
            **extractor.provenance(), **ref_info, "n": len(gen),
            "kid_subset_size": self.subset_size, "kid_subsets": self.subsets,
        }
        return MetricResult({"kid/mean": float(np.mean(mmds)), "kid/std": float(np.std(mmds))}, provenance)
