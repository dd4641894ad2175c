"""CMMD (Jayasumana et al. 2024): RBF-kernel MMD on CLIP image embeddings, sigma 10, x1000.

The paper uses CLIP ViT-L/14 at 336px (open_clip `ViT-L-14-336` + `openai`); any CLIP
backend works, and the model is recorded with the number.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from evalkit.metrics.extractors.clip import ClipOptions
from evalkit.metrics.feature_metric import FeatureMetric
from evalkit.metrics.functional.kernel import mmd2_rbf
from evalkit.metrics.jackknife import as_estimate, jackknife
from evalkit.results import Estimate

SIGMA, SCALE = 10.0, 1000.0


class CMMDOptions(ClipOptions):
    model: str = "ViT-L-14-336"
    replicates: int = Field(20, ge=0)  # jackknife groups of prompts for the CI (0: none)
    seed: int = 0


class CMMD(FeatureMetric, higher_is_better=False, needs_reference="features"):
    """CMMD: RBF-kernel MMD (sigma 10, x1000) on CLIP image embeddings."""

    Options = CMMDOptions

    def extractor(self, ctx):
        return ctx.extractor("clip", self.options)

    def estimates(self, gen, ref, name: str, samples, category: bool = False) -> tuple[dict, dict]:
        o = self.options

        def cmmd_of(rows):
            return SCALE * mmd2_rbf(gen[rows], ref, SIGMA)

        value = cmmd_of(slice(None))
        ci = jackknife(cmmd_of, value, samples["prompt_id"].to_numpy(), o.replicates, o.seed)
        estimate = as_estimate(ci[0], len(gen), (0.0, np.inf)) if ci else Estimate(value, n=len(gen))  # MMD² (biased) >= 0
        return {name: estimate}, {"cmmd_sigma": SIGMA, "cmmd_scale": SCALE, "cmmd_replicates": o.replicates}
