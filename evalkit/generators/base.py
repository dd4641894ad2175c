"""The generator interface every model adapter implements, and the options they share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Literal, Sequence

from pydantic import Field

from evalkit.errors import UserError
from evalkit.options import Component, Options
from evalkit.types import GenerationConfig, ImageJob

DEVICE_PATTERN = r"^(cpu|mps|(cuda|xpu)(:\d+)?)$"
DType = Literal["float32", "float16", "bfloat16"]


class GeneratorOptions(Options):
    # Jobs are handed over in fixed batches of this size, so a batch always holds the
    # same jobs whatever was already made: re-made images are byte-identical.
    batch_size: int = Field(4, ge=1)


class TorchOptions(GeneratorOptions):
    """Where and in which precision a torch model runs."""

    device: str = Field("cpu", pattern=DEVICE_PATTERN)
    dtype: DType = "float32"


class Generator(Component, ABC):
    """Turns (prompt, seed) jobs into images; models load on first use, not in __init__."""

    Options = GeneratorOptions
    prompts_truncated = 0  # prompts cut to a text encoder's length so far (reported with the run)

    @property
    def batch_size(self) -> int:
        return self.options.batch_size

    def check(self) -> None:
        """Validate everything that can fail before the first image (configs, devices), cheaply."""
        device = getattr(self.options, "device", None)
        if device is not None:
            check_device(device)

    @abstractmethod
    def generate(self, jobs: Sequence[ImageJob], config: GenerationConfig) -> list:
        """Return one PIL image per job, in order; the image depends only on the job and config."""

    @abstractmethod
    def fingerprint(self) -> dict:
        """Model ids / content hashes, revisions, dtype: recorded with every sample and in the run key."""


def check_device(device: str) -> None:
    """`cuda` without a GPU (or `mps` off a Mac) is an error now, not a traceback mid-run."""
    import torch

    kind = device.split(":")[0]
    available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available(),
                 "xpu": hasattr(torch, "xpu") and torch.xpu.is_available()}[kind]
    if not available:
        raise UserError(f"device '{device}' is not available on this machine (torch sees no {kind} device); "
                        "use device: cpu, or run where that device exists")
    if ":" in device and kind in ("cuda", "xpu"):
        count = getattr(torch, kind).device_count()
        if int(device.split(":")[1]) >= count:
            raise UserError(f"device '{device}' does not exist: this machine has {count} {kind} device(s)")
