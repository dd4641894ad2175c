"""Fréchet distance on any feature extractor: FD-DINOv2, CLIP-FID, ...

- `fd` (default extractor `dinov2`): dgm-eval's FD-DINOv2 (Stein et al. 2023) is
  `fd` with `extractor: dinov2` (ViT-L/14, dgm-eval's preprocessing, CLS features).
- `clip_fid`: clean-fid's `model_name="clip_vit_b_32"`: `fd` on the raw (not
  L2-normalised) image embeddings of OpenAI's CLIP ViT-B/32 (open_clip `ViT-B-32` +
  `openai`: the same weights and the same preprocessing, bicubic resize of the short side
  to 224 and a centre crop, CLIP's mean/std).

The distance, its CI (the prompt jackknife of fid_interval) and the feature cache are FID's
(metrics/fid.py, functional/frechet.py); the extractor, its weights and preprocessing go
into the provenance, so `compare` refuses FDs of different extractors.
"""

from __future__ import annotations

from typing import Any, ClassVar

from evalkit.metrics.feature_metric import ExtractorChoice
from evalkit.metrics.fid import FrechetCIOptions, FrechetMetric


class FDOptions(FrechetCIOptions, ExtractorChoice):
    model_config = ExtractorChoice.model_config  # extractor options are extra fields, checked on load
    extractor: str = "dinov2"


class CLIPFIDOptions(FDOptions):
    extractor: str = "clip"
    extractor_defaults: ClassVar[dict[str, Any]] = {"model": "ViT-B-32", "pretrained": "openai", "normalize": False}


class FD(FrechetMetric, higher_is_better=False, needs_reference="features"):
    """Fréchet distance on any extractor's features (default DINOv2: FD-DINOv2)."""

    Options = FDOptions


class CLIPFID(FD):
    """CLIP-FID (clean-fid's clip_vit_b_32): FD of raw CLIP ViT-B/32 image embeddings."""

    Options = CLIPFIDOptions
