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

    def preprocess(self, image):
        """HxWx3 uint8 array (or PIL image) -> the model's input pixels; runs in loader workers."""
        from PIL import Image

        return self.backend.pixels(image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image)))

    def embed(self, batch: list) -> np.ndarray:
        return self._embedded(self.backend.encode_pixels, batch, self.options.normalize)

    def extract(self, images) -> np.ndarray:
        """Embeddings of HxWx3 uint8 arrays or PIL images, in batches, in this process."""
        parts = [self.embed([self.preprocess(im) for im in batch]) for batch in batched(images, self.options.batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), np.float32)

    def text_embeddings(self, texts: list[str]) -> np.ndarray:
        """L2-normalised embeddings of `texts`, in batches. Where a batch is padded to its
        longest text, texts are batched by token length, so little of a batch is padding."""
        order = list(range(len(texts)))
        if self.backend.pads_to_longest:
            order.sort(key=lambda i: self.backend.token_count(texts[i]))
        parts = [self._embedded(self.backend.encode_texts, [texts[i] for i in b])
                 for b in batched(order, self.options.batch_size)]
        if not parts:
            return np.zeros((0, self.dim), np.float32)
        out = np.empty((len(texts), self.dim), np.float32)
        out[order] = np.concatenate(parts)
        return out

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
