"""CMMD (Jayasumana et al. 2024): RBF-kernel MMD on CLIP image embeddings, sigma 10, x1000.

The paper uses CLIP ViT-L/14 at 336px (open_clip `ViT-L-14-336` + `openai`); any CLIP
backend works, and the model is recorded with the number.
"""

from __future__ import annotations

from pydantic import Field

from evalkit.metrics.extractors.clip import ClipOptions
from evalkit.metrics.feature_metric import FeatureMetric
from evalkit.metrics.functional.kernel import mmd2_rbf
from evalkit.metrics.stats import normal_bootstrap_estimate

SIGMA, SCALE = 10.0, 1000.0


class CMMDOptions(ClipOptions):
    model: str = "ViT-L-14-336"
    bootstrap: int = Field(20, ge=0)  # resamples of the generated images for the CI, as FID's (0: none)
    seed: int = 0


class CMMD(FeatureMetric, higher_is_better=False, needs_reference="features"):
    """CMMD: RBF-kernel MMD (sigma 10, x1000) on CLIP image embeddings."""

    Options = CMMDOptions

    def extractor(self, ctx):
        return ctx.extractor("clip", self.options)

    def estimates(self, gen, ref, name: str, category: bool = False) -> tuple[dict, dict]:
        o = self.options

        def cmmd_of(idx):
            return SCALE * mmd2_rbf(gen[idx], ref, SIGMA)

        estimate = normal_bootstrap_estimate(cmmd_of(slice(None)), cmmd_of, len(gen), o.bootstrap, o.seed)
        return {name: estimate}, {"cmmd_sigma": SIGMA, "cmmd_scale": SCALE, "cmmd_bootstrap": o.bootstrap}
