"""The generator interface every model adapter implements."""

from __future__ import annotations

from typing import Protocol, Sequence

from evalkit.types import GenerationConfig, ImageJob


class ImageGenerator(Protocol):
    name: str
    # Jobs are handed over in fixed batches of this size, so a batch always holds the
    # same jobs whatever was already made: re-made images are byte-identical.
    batch_size: int

    def generate(self, jobs: Sequence[ImageJob], config: GenerationConfig) -> list:
        """Return one PIL image per job, in order; the image depends only on the job and config."""
        ...

    def fingerprint(self) -> dict:
        """Model ids / directory hashes, revisions, dtype: recorded with every sample."""
        ...
