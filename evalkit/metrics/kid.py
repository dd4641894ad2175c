"""KID: unbiased polynomial-kernel MMD of Inception features over random subsets."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from evalkit.errors import UserError
from evalkit.metrics.feature_metric import FeatureMetric
from evalkit.metrics.extractors.options import ExtractorOptions
from evalkit.metrics.functional.kernel import kid_subsets
from evalkit.metrics.functional.sample_size import kid_sample_size_warning
from evalkit.results import Estimate

DEFAULT_SUBSET_SIZE = 1000  # torch-fidelity's and clean-fid's default


class KIDOptions(ExtractorOptions):
    subset_size: int | None = Field(None, ge=2)  # default: min(1000, n), as clean-fid does
    subsets: int = Field(100, ge=1)
    seed: int = 0


class KID(FeatureMetric, higher_is_better=False, needs_reference="features"):
    """Kernel Inception Distance (unbiased polynomial MMD over subsets)."""

    Options = KIDOptions

    def subset_size(self, n: int, n_ref: int, category: bool) -> int:
        """The option, else min(1000, n, n_ref); within a category, at most the category's n."""
        size = self.options.subset_size or min(DEFAULT_SUBSET_SIZE, n, n_ref)
        return min(size, n) if category else size

    def estimates(self, gen, ref, name: str, samples, category: bool = False) -> tuple[dict, dict]:
        o = self.options
        size = self.subset_size(len(gen), len(ref), category)
        try:
            mmds = kid_subsets(gen, ref, size, o.subsets, o.seed)
        except ValueError as err:
            raise UserError(f"metrics.{name}: {err}") from None
        estimate = Estimate(float(np.mean(mmds)), std=float(np.std(mmds)), n=len(gen))
        return {name: estimate}, {"kid_subset_size": size, "kid_subsets": o.subsets}

    def advice(self, n: int, n_ref: int | None, dim: int, name: str) -> str | None:
        wanted = self.options.subset_size or DEFAULT_SUBSET_SIZE
        size = self.subset_size(n, n_ref, "per category" in name)
        if size < wanted:
            return (f"{name}: KID subsets of {size} images (fewer than the {wanted} asked for: "
                    f"{n} generated, {n_ref} reference); compare KIDs only at equal subset size")
        advice = kid_sample_size_warning(n, n_ref, size)
        return f"{name}: {advice}" if advice else None
