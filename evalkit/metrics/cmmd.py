"""CMMD (Jayasumana et al. 2024): RBF-kernel MMD on CLIP image embeddings, sigma 10, x1000.

The paper uses CLIP ViT-L/14 at 336px (open_clip `ViT-L-14-336` + `openai`); any CLIP
backend works, and the model is recorded with the number.
"""

from __future__ import annotations

from evalkit.metrics.base import MetricResult
from evalkit.metrics.clip_models import ClipMetric
from evalkit.metrics.functional.kernel import mmd2_rbf

SIGMA, SCALE = 10.0, 1000.0


class CMMD(ClipMetric):
    name = "cmmd"
    higher_is_better = False
    default_model = "ViT-L-14-336"

    def compute(self, ctx) -> MetricResult:
        clip = self.load_clip(ctx)
        gen = ctx.generated_features(clip)
        ref, ref_info = ctx.reference_features(clip)
        value = SCALE * mmd2_rbf(gen, ref, SIGMA)
        provenance = {**clip.provenance(), **ref_info, "n": len(gen), "cmmd_sigma": SIGMA, "cmmd_scale": SCALE}
        warnings = ["CMMD computed with RANDOM CLIP weights (built-in tiny model)"] if clip.random_weights else []
        return MetricResult({"cmmd": value}, provenance, warnings)
