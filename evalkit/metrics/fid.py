"""FID: Fréchet distance of Inception pool3 features, generated vs reference.

Its 95% CI is `functional.frechet_ci.fid_interval`'s (docs/estimators.md): the
delete-a-group jackknife over 20 random groups of prompts (a prompt's images stay
together), value ± t_19 · std. By default (`ci_method: linearized`) each replicate is the
first-order change (one eigendecomposition for all 20), which matches the exact jackknife
from N = 4d on; below that, the exact replicates from sufficient statistics (`ci_method:
jackknife` always); `bootstrap` is the image-level bootstrap from the same statistics.
The reference is fixed.
With `device: cuda` the covariances, Grams and eigensolves run there in float64
(functional/frechet_torch.py; its CPU parity tests run the same code).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from evalkit.metrics.extractors.options import ExtractorOptions
from evalkit.metrics.feature_metric import ExtractorChoice, FeatureMetric
from evalkit.metrics.functional.frechet import frechet_distance_to_stats
from evalkit.metrics.functional.frechet_ci import CIPlan, GaussianStats, fid_interval
from evalkit.metrics.functional.frechet_torch import frechet_distance_torch, mean_and_cov_torch, torch_device
from evalkit.metrics.functional.sample_size import frechet_sample_size_warning
from evalkit.metrics.jackknife import as_estimate
from evalkit.options import Options
from evalkit.results import Estimate


def fid_estimate(gen: np.ndarray, ref: GaussianStats, plan: CIPlan, groups=None) -> Estimate:
    """FID of generated features against reference statistics, with its CI when the plan asks
    for at least 2 replicates and there are at least 2 prompts (`groups`: one label per row)."""
    units = len(set(groups)) if groups is not None else len(gen)
    if plan.replicates < 2 or units < 2:
        return Estimate(_distance(gen, ref, plan.device), n=len(gen))
    with np.errstate(divide="ignore", invalid="ignore"):  # a replicate of one image has no covariance
        interval = fid_interval(gen, ref, plan, groups)
    if not np.isfinite(interval.std):
        return Estimate(interval.value, n=len(gen))
    return as_estimate(interval, len(gen), (0.0, np.inf))


def _distance(gen: np.ndarray, ref: GaussianStats, device: str | None) -> float:
    if device is None or len(gen) <= gen.shape[1]:  # the n x n path needs no d x d work
        return frechet_distance_to_stats(gen, ref.mu, ref.sigma, ref.n)
    return frechet_distance_torch(*mean_and_cov_torch(gen, device), ref.mu, ref.sigma, len(gen), ref.n, device)


class FrechetCIOptions(Options):
    bootstrap: int = Field(20, ge=0)  # replicates of the CI (jackknife groups or resamples; 0: none)
    ci_method: Literal["linearized", "jackknife", "bootstrap"] = "linearized"
    seed: int = 0


class FIDOptions(ExtractorOptions, FrechetCIOptions):
    pass


class FrechetMetric(FeatureMetric):
    """A Fréchet distance with its CI (FID, FD on any extractor), overall and per category."""

    def reference(self, ctx, extractor):
        feats, info = ctx.reference_features(extractor)
        return GaussianStats.of(feats, self.torch_device()), info

    def torch_device(self) -> str | None:
        """The metric's CUDA device, where the covariances and eigensolves then run (else None: NumPy)."""
        o = self.options
        return torch_device(o.extractor_options().get("device") if isinstance(o, ExtractorChoice) else o.device)

    def estimates(self, gen, ref, name: str, samples, category: bool = False) -> tuple[dict, dict]:
        o = self.options
        plan = CIPlan(method=o.ci_method, replicates=o.bootstrap, seed=o.seed, device=self.torch_device())
        estimate = fid_estimate(gen, ref, plan, samples["prompt_id"].to_numpy())
        return {name: estimate}, {"fid_bootstrap": o.bootstrap, "fid_ci": o.ci_method}

    def advice(self, n: int, n_ref: int | None, dim: int, name: str) -> str | None:
        return frechet_sample_size_warning(n, dim, n_ref, name.upper() if name == "fid" else name)


class FID(FrechetMetric, higher_is_better=False, needs_reference="stats"):
    """Frechet Inception Distance (Inception-v3 TF-2015 pool3, 2048-d)."""

    Options = FIDOptions

    def reference(self, ctx, extractor):
        if ctx.reference.stats:
            mu, sigma, ref_info = ctx.reference_stats(extractor)
            return GaussianStats(mu, sigma, ref_info.get("reference_n")), ref_info
        return super().reference(ctx, extractor)
