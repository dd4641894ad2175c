"""The two CLIP backends: how to load a CLIP model and run its towers (see clip.py).

- `open_clip`: `model` is an architecture name with `pretrained` a tag or checkpoint
  path (`ViT-B-32` + `openai`), or `local-dir:PATH` / `hf-hub:ORG/NAME`.
- `transformers`: `model` is a hub id or a local directory holding a `CLIPModel`
  and its `CLIPProcessor` (save_pretrained layout).
- `builtin:tiny-clip` (open_clip) and `builtin:tiny-clip-hf` (transformers) are
  random-weight tiny models for offline tests: their scores mean nothing, and the
  provenance says so.

Both truncate prompts longer than the context to the context length while keeping the
end-of-text token (the pooled position); torchmetrics #2883 drops it.
"""

from __future__ import annotations

import os

from evalkit import builtin
from evalkit.errors import UserError
from evalkit.fingerprint import dir_fingerprint

RANDOM_WEIGHTS_NOTE = "RANDOM (built-in tiny model): the score is a pipeline check, not a quality measure"


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


class OpenClipBackend:
    """open_clip: an architecture + pretrained tag, local-dir:PATH or hf-hub:ORG/NAME."""

    backend = "open_clip"

    def __init__(self, model: str, pretrained: str | None = None, device: str = "cpu"):
        import open_clip

        self.random_weights = builtin.is_builtin(model)
        name = f"local-dir:{builtin.resolve(model)}" if self.random_weights else model
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
        self.dim = int(self.model.visual.output_dim)
        self._local_dir = name[len("local-dir:"):] if name.startswith("local-dir:") else None

    def token_count(self, text: str) -> int:
        encode = getattr(self.tokenizer, "encode", None)
        return len(encode(text)) + 2 if encode else 0

    pads_to_longest = False  # open_clip's tokenizer always pads to the context length

    def pixels(self, image):
        """One PIL image -> its [3, H, W] input tensor (the model's own transform)."""
        return self.preprocess(image)

    def encode_pixels(self, pixels: list):
        import torch

        return self.model.encode_image(torch.stack(pixels).to(self.device))

    def encode_texts(self, texts):
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


class TransformersClipBackend:
    """transformers: a hub id or a save_pretrained folder with a CLIPModel and its CLIPProcessor."""

    backend = "transformers"

    def __init__(self, model: str, pretrained: str | None = None, device: str = "cpu"):
        from transformers import CLIPModel, CLIPProcessor

        from evalkit.hf import quiet_hf_logging

        quiet_hf_logging()
        self.random_weights = builtin.is_builtin(model)
        source = str(builtin.resolve(model)) if self.random_weights else model
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
        self.dim = int(self.model.config.projection_dim)

    def token_count(self, text: str) -> int:
        return len(self.tokenizer(text, truncation=False)["input_ids"])

    pads_to_longest = True  # a batch of texts is padded to its longest: sort texts by length first

    def pixels(self, image):
        """One PIL image -> its [3, H, W] input array (the checkpoint's CLIPProcessor)."""
        return self.processor(images=[image], return_tensors="np")["pixel_values"][0]

    def encode_pixels(self, pixels: list):
        import numpy as np
        import torch

        return _pooled(self.model.get_image_features(pixel_values=torch.from_numpy(np.stack(pixels)).to(self.device)))

    def encode_texts(self, texts):
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


BACKENDS = {"open_clip": OpenClipBackend, "transformers": TransformersClipBackend}
