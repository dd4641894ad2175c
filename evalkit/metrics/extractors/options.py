"""Options every feature extractor takes: where it runs and how many images per batch."""

from __future__ import annotations

from pydantic import Field

from evalkit.options import Device, Options


class ExtractorOptions(Options):
    device: Device = "cpu"
    batch_size: int = Field(32, ge=1)
    # processes decoding and preprocessing images for the network; default: from the core count
    workers: int | None = Field(None, ge=0, le=64)
