"""Learned human-preference scores from CLIP-like models, per image against its prompt,
with bootstrap CIs over prompts, overall and per category (clip_score.EmbeddingScore):

- PickScore (Kirstain et al. 2023): transformers CLIPModel `yuvalkirstain/PickScore_v1`
  with the `laion/CLIP-ViT-H-14-laion2B-s32B-b79K` processor; score =
  exp(logit_scale) * cos(image, prompt), the model's own (published) logit scale, ~100.
- HPS v2.1 (Wu et al. 2023): open_clip ViT-H-14 loaded with the HPS v2.1 checkpoint
  (`xswu/HPSv2`, HPS_v2.1_compressed.pt) and HPS's preprocessing; score = 100 * cos, the
  scale of the HPS v2 benchmark tables (`hpsv2.score()` returns the cosine itself).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from evalkit.metrics.clip_score import EmbeddingScore
from evalkit.metrics.extractors.clip import ClipOptions

PICKSCORE_MODEL = "yuvalkirstain/PickScore_v1"
PICKSCORE_PROCESSOR = "laion/CLIP-ViT-H-14-laion2B-s32B-b79K"


class PickScoreOptions(ClipOptions):
    model: str = PICKSCORE_MODEL  # hub id, save_pretrained folder, or builtin:tiny-pickscore
    # None: the published pairing for PickScore_v1 (the laion CLIP-H processor), else the model's own
    processor: str | None = None
    backend: Literal["transformers"] = "transformers"


class HPSv2Options(ClipOptions):
    model: str = "ViT-H-14"  # open_clip architecture, or builtin:tiny-hpsv2 (which carries its checkpoint)
    pretrained: str | None = None  # checkpoint: a local path or hf-file:ORG/REPO/FILE; default HPS v2.1's
    backend: Literal["hpsv2"] = "hpsv2"


class PickScore(EmbeddingScore):
    """PickScore: exp(logit_scale) * cos(image, prompt) with PickScore_v1 (CLIP-H)."""

    Options = PickScoreOptions
    label = "PickScore"

    def clip_options(self) -> dict:
        o = self.options
        published = o.model == PICKSCORE_MODEL and o.processor is None
        return {**o.model_dump(), "processor": PICKSCORE_PROCESSOR if published else o.processor}

    @staticmethod
    def logit_scale(clip) -> float:
        return float(clip.backend.model.logit_scale.detach().exp())

    def scores(self, cosines: np.ndarray, clip) -> np.ndarray:
        return self.logit_scale(clip) * cosines

    def score_provenance(self, clip) -> dict:
        return {"score": "exp(logit_scale) * cos(image, prompt)", "logit_scale_exp": self.logit_scale(clip)}


class HPSv2(EmbeddingScore):
    """HPS v2.1: 100 * cos(image, prompt) with open_clip ViT-H-14 and the HPS v2.1 checkpoint."""

    Options = HPSv2Options
    label = "HPSv2"

    def scores(self, cosines: np.ndarray, clip) -> np.ndarray:
        return 100 * cosines

    def score_provenance(self, clip) -> dict:
        return {"score": "100 * cos(image, prompt)", "preprocess": "HPS v2 preprocess_val (longer side to size, pad)"}
