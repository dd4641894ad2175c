"""CLIP image embeddings as a feature extractor (CLIP score, CMMD, PickScore, HPSv2 and
CLIP-FID all use it), over any backend in clip_backends.py. Embeddings are L2-normalised,
except with `normalize: false`: clean-fid's CLIP-FID takes the raw image embeddings."""

from __future__ import annotations

import hashlib
import json
from typing import Literal

import numpy as np

from evalkit.metrics.extractors.base import FeatureExtractor, batched
from evalkit.metrics.extractors.clip_backends import BACKENDS
from evalkit.metrics.extractors.options import ExtractorOptions


class ClipOptions(ExtractorOptions):
    model: str = "ViT-B-32"  # open_clip architecture, local-dir:PATH, hf-hub:ORG/NAME, a hub id, or builtin:tiny-clip[-hf]
    # open_clip: the pretrained tag, "openai" unless given (folders and hub repos carry their
    # own weights); transformers: the hub revision, none unless given.
    pretrained: str | None = None
    backend: Literal["open_clip", "transformers", "hpsv2"] = "open_clip"
    processor: str | None = None  # transformers: the CLIPProcessor's hub id or folder when not the model's


class ClipExtractorOptions(ClipOptions):
    normalize: bool = True  # false: raw image embeddings (CLIP-FID); text embeddings are always normalised


class ClipExtractor(FeatureExtractor):
    """CLIP image embeddings (L2-normalised); also encodes texts, for CLIP score."""

    Options = ClipExtractorOptions

    def __init__(self, options: ClipExtractorOptions | None = None):
        super().__init__(options)
        o = self.options
        pretrained = "openai" if o.pretrained is None and o.backend == "open_clip" else o.pretrained
        self.backend = BACKENDS[o.backend](o.model, pretrained, o.device, o.processor)
        self.random_weights = self.backend.random_weights

    @property
    def dim(self) -> int:
        return self.backend.dim

    @property
    def key(self) -> str:
        """Feature-cache key: backend, model and weights identity."""
        blob = json.dumps(self.provenance(), sort_keys=True).encode()
        return f"clip-{self.options.backend}-{hashlib.sha256(blob).hexdigest()[:12]}"

    def provenance(self) -> dict:
        info = {"extractor": "clip", **self.backend.provenance()}
        return info if self.options.normalize else {**info, "clip_features": "raw image embeddings (not normalised)"}

    def extract(self, images) -> np.ndarray:
        """Embeddings of HxWx3 uint8 arrays or PIL images, in batches."""
        from PIL import Image

        parts = [self._embedded(self.backend.encode_images,
                                [im if isinstance(im, Image.Image) else Image.fromarray(np.asarray(im)) for im in batch],
                                self.options.normalize)
                 for batch in batched(images, self.options.batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), np.float32)

    def text_embeddings(self, texts: list[str]) -> np.ndarray:
        """L2-normalised embeddings of `texts`, in batches."""
        parts = [self._embedded(self.backend.encode_texts, b) for b in batched(texts, self.options.batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), np.float32)

    @staticmethod
    def _embedded(encode, batch, normalize: bool = True) -> np.ndarray:
        import torch

        with torch.inference_mode():
            emb = encode(batch).float()
        return (torch.nn.functional.normalize(emb, dim=-1) if normalize else emb).cpu().numpy()

    def count_truncated(self, texts: list[str]) -> int:
        """How many texts exceed the context once start and end tokens are added."""
        return sum(self.backend.token_count(t) > self.context_length for t in texts)

    @property
    def context_length(self) -> int:
        return self.backend.context_length
