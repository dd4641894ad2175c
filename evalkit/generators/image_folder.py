"""Evaluate images made elsewhere: a folder laid out as <prompt-id>/<index>.<ext>."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from pydantic import Field

from evalkit.errors import UserError
from evalkit.fingerprint import dir_fingerprint
from evalkit.generators.base import Generator, GeneratorOptions
from evalkit.images import IMAGE_EXTENSIONS, open_rgb, inside
from evalkit.types import GenerationConfig, ImageJob


class ImageFolderOptions(GeneratorOptions):
    path: str  # folder with <prompt-id>/<index>.<png|jpg|...>
    batch_size: int = Field(16, ge=1)


class ImageFolderGenerator(Generator):
    """Images made elsewhere: a folder laid out as <prompt-id>/<index>.png."""

    Options = ImageFolderOptions

    def __init__(self, options: ImageFolderOptions):
        super().__init__(options)
        self.path = Path(options.path).expanduser()
        if not self.path.is_dir():
            raise UserError(f"image folder not found: {self.path} (expected <prompt-id>/<index>.png files)")

    def _find(self, job: ImageJob) -> Path:
        for ext in IMAGE_EXTENSIONS:
            candidate = inside(self.path, f"{job.prompt.id}/{job.index}{ext}")
            if candidate.is_file():
                return candidate
        raise UserError(
            f"image folder {self.path} has no image for prompt '{job.prompt.id}' index {job.index}: "
            f"expected {self.path / job.prompt.id / f'{job.index}.png'}"
        )

    def generate(self, jobs: Sequence[ImageJob], config: GenerationConfig) -> list:
        return [open_rgb(self._find(job)) for job in jobs]

    def fingerprint(self) -> dict:
        return {"generator": "image_folder", "path": str(self.path.resolve()), "dir_sha": dir_fingerprint(self.path)}
