"""Pluggable frozen text encoders for cascades: BERT, T5 or CLIP, loaded with transformers.

A source is a hub id or a local folder holding the model and its tokenizer (as written by
`model.save_pretrained(d); tokenizer.save_pretrained(d)`). Prompts are padded to
`max_length` (so an image never depends on the other prompts of its batch) and longer
ones are truncated, with a warning that counts them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

from evalkit.errors import UserError
from evalkit.generators.model_ref import load_failed, torch_dtype

# type -> (transformers model class, its config class)
ENCODERS: dict[str, tuple[str, str]] = {
    "bert": ("BertModel", "BertConfig"),
    "t5": ("T5EncoderModel", "T5Config"),
    "clip": ("CLIPTextModel", "CLIPTextConfig"),
}


class PromptTruncationWarning(UserWarning):
    """Some prompts were longer than the text encoder's maximum length and were cut."""


def check_kind(kind: str, who: str) -> str:
    if kind not in ENCODERS:
        raise UserError(f"{who}: unknown text encoder type '{kind}'; use one of {', '.join(ENCODERS)}")
    return kind


def hidden_size(config: Any) -> int:
    """Width of the encoder's token embeddings (T5 calls it d_model)."""
    return int(getattr(config, "d_model", None) or config.hidden_size)


def unet_text_width(unet_config: dict[str, Any]) -> tuple[int | None, str]:
    """The text-embedding width a UNet takes, and the config key that says so: its own
    projection's input (encoder_hid_dim) when it has one, else its cross-attention size."""
    if unet_config.get("encoder_hid_dim_type") is not None:
        return unet_config.get("encoder_hid_dim"), "encoder_hid_dim"
    return unet_config.get("cross_attention_dim"), "cross_attention_dim"


@dataclass
class TextEncoderSpec:
    """Which encoder to load and how many tokens it sees; loads nothing until asked."""

    kind: str
    source: str  # hub id or local folder
    max_length: int
    revision: str | None = None
    who: str = "text encoder"

    def _kwargs(self) -> dict:
        return {"revision": self.revision} if self.revision else {}

    def load_config(self):
        import transformers

        cls = getattr(transformers, ENCODERS[self.kind][1])
        try:
            config = cls.from_pretrained(self.source, **self._kwargs())
        except (OSError, ValueError) as err:
            raise load_failed(self.who, self.source, err) from None
        limit = getattr(config, "max_position_embeddings", None)
        if self.kind != "t5" and limit is not None and self.max_length > limit:
            raise UserError(
                f"{self.who}: max_length {self.max_length} exceeds the {self.kind} encoder's "
                f"{limit} positions; set max_length to {limit} or less"
            )
        return config

    def load(self, device: str, dtype):
        """The tokenizer and model, on `device` in `dtype`, in eval mode."""
        import transformers

        from evalkit.hf import quiet_hf_logging

        quiet_hf_logging()
        cls = getattr(transformers, ENCODERS[self.kind][0])
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(self.source, **self._kwargs())
            model = cls.from_pretrained(self.source, dtype=dtype, **self._kwargs())
        except (OSError, ValueError) as err:
            raise load_failed(self.who, self.source, err) from None
        return LoadedTextEncoder(self, tokenizer, model.to(device).eval())


class LoadedTextEncoder:
    def __init__(self, spec: TextEncoderSpec, tokenizer, model):
        self.spec, self.tokenizer, self.model = spec, tokenizer, model

    def count_truncated(self, texts: list[str]) -> int:
        lengths = self.tokenizer(list(texts), truncation=False)["input_ids"]
        return sum(len(ids) > self.spec.max_length for ids in lengths)

    def encode(self, texts: list[str]):
        """(hidden states [B, max_length, D], attention mask [B, max_length]) on the model's device."""
        import torch

        tokens = self.tokenizer(
            list(texts), padding="max_length", truncation=True, max_length=self.spec.max_length, return_tensors="pt"
        )
        device = self.model.device
        with torch.no_grad():
            out = self.model(input_ids=tokens.input_ids.to(device), attention_mask=tokens.attention_mask.to(device))
        return out.last_hidden_state, tokens.attention_mask.to(device)


class OneEncoderParts:
    """The cascade skeleton's encoder parts for a generator whose prompts all go through one
    TextEncoderSpec, `self.encoder` (imagen_cascade, imagen_pytorch); mix in before CascadeGenerator."""

    encoder: TextEncoderSpec
    options: Any

    @property
    def truncation_limit(self) -> str:
        return f"the {self.encoder.kind} encoder's max_length of {self.encoder.max_length} tokens"

    def load_encoder(self):
        return self.encoder.load(self.options.device, torch_dtype(self.options.dtype))

    def count_truncated(self, encoder, texts: list[str]) -> int:
        return encoder.count_truncated(texts)


def warn_truncated(count: int, total: int, what: str) -> None:
    """One warning per batch saying how many prompts were cut (`what`: whose limit)."""
    if count:
        message = f"{count} of {total} prompt(s) are longer than {what} and were truncated"
        warnings.warn(message, PromptTruncationWarning, stacklevel=2)
