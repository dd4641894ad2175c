"""The generator interface every model adapter implements, and the options they share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Literal, Sequence

from pydantic import Field

from evalkit.devices import check_device
from evalkit.options import Component, Device, Options
from evalkit.types import GenerationConfig, ImageJob

DType = Literal["float32", "float16", "bfloat16"]


class GeneratorOptions(Options):
    # Jobs are handed over in fixed batches of this size, so a batch always holds the
    # same jobs whatever was already made: re-made images are byte-identical.
    batch_size: int = Field(4, ge=1)


class TorchOptions(GeneratorOptions):
    """Where and in which precision a torch model runs."""

    device: Device = "cpu"
    dtype: DType = "float32"


class Generator(Component, ABC):
    """Turns (prompt, seed) jobs into images; models load on first use, not in __init__."""

    Options = GeneratorOptions
    prompts_truncated = 0  # prompts cut to a text encoder's length so far (reported with the run)

    @property
    def batch_size(self) -> int:
        return self.options.batch_size

    def check(self, config: GenerationConfig | None = None) -> None:
        """Validate everything that can fail before the first image (configs, devices, the
        spec's generation settings), cheaply: no model weights are loaded."""
        device = getattr(self.options, "device", None)
        if device is not None:
            check_device(device)

    @abstractmethod
    def generate(self, jobs: Sequence[ImageJob], config: GenerationConfig) -> list:
        """Return one PIL image per job, in order; the image depends only on the job and config."""

    @abstractmethod
    def fingerprint(self) -> dict:
        """Model ids / content hashes, revisions, dtype: recorded with every sample and in the run key."""
