"""Fréchet distance on any feature extractor: FD-DINOv2, CLIP-FID, ...

- `fd` (default extractor `dinov2`): dgm-eval's FD-DINOv2 (Stein et al. 2023) is
  `fd` with `extractor: dinov2` (ViT-L/14, dgm-eval's preprocessing, CLS features).
- `clip_fid`: clean-fid's `model_name="clip_vit_b_32"`: `fd` on the raw (not
  L2-normalised) image embeddings of OpenAI's CLIP ViT-B/32 (open_clip `ViT-B-32` +
  `openai`: the same weights and the same preprocessing, bicubic resize of the short side
  to 224 and a centre crop, CLIP's mean/std).

The distance, its CI (fid ± 1.96 · bootstrap std) and the feature cache are FID's
(metrics/fid.py, functional/frechet.py); the extractor, its weights and preprocessing go
into the provenance, so `compare` refuses FDs of different extractors.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from evalkit.metrics.feature_metric import ExtractorChoice
from evalkit.metrics.fid import FrechetMetric


class FDOptions(ExtractorChoice):
    extractor: str = "dinov2"
    bootstrap: int = Field(20, ge=0)  # resamples for the CI (0: none)
    seed: int = 0


class CLIPFIDOptions(FDOptions):
    extractor: str = "clip"
    extractor_defaults: ClassVar[dict[str, Any]] = {"model": "ViT-B-32", "pretrained": "openai", "normalize": False}


class FD(FrechetMetric, higher_is_better=False, needs_reference="features"):
    """Fréchet distance on any extractor's features (default DINOv2: FD-DINOv2)."""

    Options = FDOptions


class CLIPFID(FD):
    """CLIP-FID (clean-fid's clip_vit_b_32): FD of raw CLIP ViT-B/32 image embeddings."""

    Options = CLIPFIDOptions
