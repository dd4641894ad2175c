"""KID: unbiased polynomial-kernel MMD of Inception features over random subsets."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from evalkit.errors import UserError
from evalkit.metrics.feature_metric import FeatureMetric
from evalkit.metrics.extractors.options import ExtractorOptions
from evalkit.metrics.functional.kernel import kid_subsets
from evalkit.results import Estimate, MetricResult

DEFAULT_SUBSET_SIZE = 1000  # torch-fidelity's and clean-fid's default


class KIDOptions(ExtractorOptions):
    subset_size: int | None = Field(None, ge=2)  # default: min(1000, n), as clean-fid does
    subsets: int = Field(100, ge=1)
    seed: int = 0


class KID(FeatureMetric, higher_is_better=False, needs_reference="features"):
    """Kernel Inception Distance (unbiased polynomial MMD over subsets)."""

    Options = KIDOptions

    def compute(self, ctx, name: str) -> MetricResult:
        o = self.options
        extractor, gen = self.generated(ctx, name)
        ref, ref_info = ctx.reference_features(extractor)
        size, warnings = o.subset_size, ()
        if size is None:
            size = min(DEFAULT_SUBSET_SIZE, len(gen), len(ref))
            if size < DEFAULT_SUBSET_SIZE:
                warnings = (f"KID subsets of {size} images (fewer than the usual {DEFAULT_SUBSET_SIZE}: "
                            f"{len(gen)} generated, {len(ref)} reference); compare KIDs only at equal subset size",)
        try:
            mmds = kid_subsets(gen, ref, size, o.subsets, o.seed)
        except ValueError as err:
            raise UserError(f"metrics.{name}: {err}") from None
        provenance = {**extractor.provenance(), **ref_info, "n": len(gen), "kid_subset_size": size,
                      "kid_subsets": o.subsets}
        estimate = Estimate(float(np.mean(mmds)), std=float(np.std(mmds)), n=len(gen))
        return MetricResult(name, False, {name: estimate}, provenance=provenance, warnings=warnings)
