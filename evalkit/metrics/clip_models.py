"""CLIP backends: L2-normalised image and text embeddings, behind one small interface.

- `open_clip`: `model` is an architecture name with `pretrained` a tag or checkpoint
  path (`ViT-B-32` + `openai`), or `local-dir:PATH` / `hf-hub:ORG/NAME`.
- `transformers`: `model` is a hub id or a local directory holding a `CLIPModel`
  and its `CLIPProcessor` (save_pretrained layout).
- `builtin:tiny-clip` (open_clip) and `builtin:tiny-clip-hf` (transformers) are
  random-weight tiny models for offline tests: their scores mean nothing, and the
  provenance says so.

Both backends truncate prompts longer than the context to the context length while
keeping the end-of-text token (the pooled position); torchmetrics #2883 drops it.
"""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np

from evalkit.errors import UserError
from evalkit.fingerprint import dir_fingerprint
from evalkit.generators.tiny import is_builtin, resolve_builtin

RANDOM_WEIGHTS_NOTE = "RANDOM (built-in tiny model): the score is a pipeline check, not a quality measure"


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


class ClipModel:
    """Shared behaviour; subclasses set model/tokenizer and the two `_encode_*` methods."""

    backend = ""
    random_weights = False
    context_length = 77

    def provenance(self) -> dict:
        raise NotImplementedError

    @property
    def key(self) -> str:
        """Feature-cache key: backend, model and weights identity."""
        blob = json.dumps(self.provenance(), sort_keys=True).encode()
        return f"clip-{self.backend}-{hashlib.sha256(blob).hexdigest()[:12]}"

    batch_size = 32

    def extract(self, images) -> np.ndarray:
        """Image embeddings of HxWx3 uint8 arrays or PIL images, in batches (the extractor interface)."""
        from PIL import Image

        from evalkit.metrics.features import batched

        out = [
            self.image_embeddings([im if isinstance(im, Image.Image) else Image.fromarray(np.asarray(im)) for im in batch])
            for batch in batched(images, self.batch_size)
        ]
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)

    def image_embeddings(self, images) -> np.ndarray:
        import torch

        with torch.inference_mode():
            emb = self._encode_images(images).float()
        return torch.nn.functional.normalize(emb, dim=-1).cpu().numpy()

    def text_embeddings(self, texts: list[str]) -> np.ndarray:
        import torch

        with torch.inference_mode():
            emb = self._encode_texts(texts).float()
        return torch.nn.functional.normalize(emb, dim=-1).cpu().numpy()

    def count_truncated(self, texts: list[str]) -> int:
        """How many texts exceed the context once start and end tokens are added."""
        return sum(self._token_count(t) > self.context_length for t in texts)


class OpenClipModel(ClipModel):
    backend = "open_clip"

    def __init__(self, model: str, pretrained: str | None = None, device: str = "cpu"):
        import open_clip

        self.random_weights = is_builtin(model)
        name = f"local-dir:{resolve_builtin(model)}" if self.random_weights else model
        if name.startswith(("local-dir:", "hf-hub:")):
            pretrained = None  # the folder or hub repo carries its own weights
        self.model_ref, self.pretrained, self.device = model, pretrained, device
        try:
            self.model, _, self.preprocess = open_clip.create_model_and_transforms(name, pretrained=pretrained, device=device)
            self.tokenizer = open_clip.get_tokenizer(name)
        except (RuntimeError, FileNotFoundError, ValueError, OSError) as err:
            raise UserError(
                f"could not load open_clip model '{model}' (pretrained={pretrained!r}): {_first_line(err)} "
                "(offline? pass model: local-dir:PATH holding open_clip_config.json and weights)"
            ) from None
        self.model.eval()
        self.context_length = self.tokenizer.context_length
        self._local_dir = name[len("local-dir:"):] if name.startswith("local-dir:") else None

    def _token_count(self, text: str) -> int:
        encode = getattr(self.tokenizer, "encode", None)
        return len(encode(text)) + 2 if encode else 0

    def _encode_images(self, images):
        import torch

        return self.model.encode_image(torch.stack([self.preprocess(img) for img in images]).to(self.device))

    def _encode_texts(self, texts):
        # open_clip's tokenizer truncates and then writes the end-of-text token last.
        return self.model.encode_text(self.tokenizer(texts).to(self.device))

    def provenance(self) -> dict:
        info = {"clip_backend": self.backend, "clip_model": self.model_ref, "clip_pretrained": self.pretrained}
        if self._local_dir:
            info["clip_dir_sha"] = dir_fingerprint(self._local_dir)
        if self.random_weights:
            info["clip_weights"] = RANDOM_WEIGHTS_NOTE
        return info


def _pooled(output):
    """transformers < 5 returns the projected features; 5.x wraps them in a ModelOutput."""
    return output if hasattr(output, "norm") else output.pooler_output


class TransformersClipModel(ClipModel):
    backend = "transformers"

    def __init__(self, model: str, pretrained: str | None = None, device: str = "cpu"):
        from transformers import CLIPModel, CLIPProcessor

        from evalkit.hf import quiet_hf_logging

        quiet_hf_logging()
        self.random_weights = is_builtin(model)
        source = str(resolve_builtin(model)) if self.random_weights else model
        self.model_ref, self.pretrained, self.device, self._source = model, pretrained, device, source
        try:
            self.model = CLIPModel.from_pretrained(source, revision=pretrained).to(device).eval()
            self.processor = CLIPProcessor.from_pretrained(source, revision=pretrained)
        except (OSError, ValueError) as err:
            raise UserError(
                f"could not load transformers CLIPModel '{model}': {_first_line(err)} "
                "(offline? pass a local directory made by save_pretrained)"
            ) from None
        self.tokenizer = self.processor.tokenizer
        self.context_length = self.model.config.text_config.max_position_embeddings

    def _token_count(self, text: str) -> int:
        return len(self.tokenizer(text, truncation=False)["input_ids"])

    def _encode_images(self, images):
        pixels = self.processor(images=images, return_tensors="pt")["pixel_values"].to(self.device)
        return _pooled(self.model.get_image_features(pixel_values=pixels))

    def _encode_texts(self, texts):
        # truncation=True lets the tokenizer cut the content and still append the end token.
        tokens = self.tokenizer(texts, padding=True, truncation=True, max_length=self.context_length, return_tensors="pt")
        return _pooled(self.model.get_text_features(
            input_ids=tokens["input_ids"].to(self.device), attention_mask=tokens["attention_mask"].to(self.device)
        ))

    def provenance(self) -> dict:
        info = {"clip_backend": self.backend, "clip_model": self.model_ref, "clip_revision": self.pretrained}
        if os.path.isdir(self._source):
            info["clip_dir_sha"] = dir_fingerprint(self._source)
        if self.random_weights:
            info["clip_weights"] = RANDOM_WEIGHTS_NOTE
        return info


BACKENDS = {"open_clip": OpenClipModel, "transformers": TransformersClipModel}


def load_clip(backend: str, model: str, pretrained: str | None = None, device: str = "cpu",
              batch_size: int = 32) -> ClipModel:
    if backend not in BACKENDS:
        raise UserError(f"unknown CLIP backend '{backend}': use one of {', '.join(BACKENDS)}")
    clip = BACKENDS[backend](model, pretrained, device)
    clip.batch_size = batch_size
    return clip


class ClipMetric:
    """Options shared by the metrics that run a CLIP model (CLIP score, CMMD)."""

    default_model = "ViT-B-32"

    def __init__(self, model: str | None = None, pretrained: str | None = None, backend: str = "open_clip",
                 device: str = "cpu", batch_size: int = 32):
        self.model = model or self.default_model
        # open_clip: the pretrained tag, "openai" unless given (folders and hub repos carry
        # their own weights); transformers: the hub revision, none unless given.
        if pretrained is None and backend == "open_clip":
            pretrained = "openai"
        self.pretrained, self.backend, self.device, self.batch_size = pretrained, backend, device, batch_size

    def load_clip(self, ctx) -> ClipModel:
        """The run's shared instance of this CLIP model (see ScoringContext.clip)."""
        return ctx.clip(self.backend, self.model, self.pretrained, self.device, self.batch_size)
