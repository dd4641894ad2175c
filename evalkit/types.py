"""Plain data passed between the stages. No torch here."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping


@dataclass(frozen=True)
class Prompt:
    """One prompt of a suite; `id` is stable across runs of the same suite version."""

    id: str
    text: str
    category: str | None = None
    meta: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class GenerationConfig:
    """Sampler settings shared by every generator."""

    num_inference_steps: int = 25
    guidance_scale: float = 7.5
    height: int | None = None
    width: int | None = None
    negative_prompt: str | None = None


@dataclass(frozen=True)
class ImageJob:
    """One image to make: prompt, its index among the prompt's images, and its seed."""

    prompt: Prompt
    index: int
    seed: int
