"""CMMD (Jayasumana et al. 2024): RBF-kernel MMD on CLIP image embeddings, sigma 10, x1000.

The paper uses CLIP ViT-L/14 at 336px (open_clip `ViT-L-14-336` + `openai`); any CLIP
backend works, and the model is recorded with the number.
"""

from __future__ import annotations

from evalkit.metrics.feature_metric import FeatureMetric
from evalkit.metrics.extractors.clip import ClipOptions
from evalkit.metrics.functional.kernel import mmd2_rbf
from evalkit.results import Estimate, MetricResult

SIGMA, SCALE = 10.0, 1000.0


class CMMDOptions(ClipOptions):
    model: str = "ViT-L-14-336"


class CMMD(FeatureMetric, higher_is_better=False, needs_reference="features"):
    """CMMD: RBF-kernel MMD (sigma 10, x1000) on CLIP image embeddings."""

    Options = CMMDOptions

    def extractor(self, ctx):
        return ctx.extractor("clip", self.options)

    def compute(self, ctx, name: str) -> MetricResult:
        clip, gen = self.generated(ctx, name)
        ref, ref_info = ctx.reference_features(clip)
        value = SCALE * mmd2_rbf(gen, ref, SIGMA)
        provenance = {**clip.provenance(), **ref_info, "n": len(gen), "cmmd_sigma": SIGMA, "cmmd_scale": SCALE}
        warnings = ("CMMD computed with RANDOM CLIP weights (built-in tiny model)",) if clip.random_weights else ()
        return MetricResult(name, False, {name: Estimate(value, n=len(gen))}, provenance=provenance, warnings=warnings)
