"""CMMD (Jayasumana et al. 2024): RBF-kernel MMD on CLIP image embeddings, sigma 10, x1000.

The paper uses CLIP ViT-L/14 at 336px (open_clip `ViT-L-14-336` + `openai`); any CLIP
backend works, and the model is recorded with the number.
"""

from __future__ import annotations

from evalkit.metrics.base import MetricResult
from evalkit.metrics.functional.kernel import mmd2_rbf

SIGMA, SCALE = 10.0, 1000.0


class CMMD:
    name = "cmmd"
    higher_is_better = False

    def __init__(self, model: str = "ViT-L-14-336", pretrained: str | None = "openai", backend: str = "open_clip",
                 device: str = "cpu", batch_size: int = 32):
        self.backend, self.model, self.pretrained = backend, model, pretrained
        self.device, self.batch_size = device, batch_size

    def compute(self, ctx) -> MetricResult:
        clip = ctx.clip(self.backend, self.model, self.pretrained, self.device, self.batch_size)
        gen = ctx.generated_features(clip)
        ref, ref_info = ctx.reference_features(clip)
        value = SCALE * mmd2_rbf(gen, ref, SIGMA)
        provenance = {**clip.provenance(), **ref_info, "n": len(gen), "cmmd_sigma": SIGMA, "cmmd_scale": SCALE}
        warnings = ["CMMD computed with RANDOM CLIP weights (built-in tiny model)"] if clip.random_weights else []
        return MetricResult({"cmmd": value}, provenance, warnings)
