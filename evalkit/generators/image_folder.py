"""Evaluate images made elsewhere: a folder laid out as <prompt-id>/<index>.<ext>."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from evalkit.errors import UserError
from evalkit.fingerprint import dir_fingerprint
from evalkit.images import IMAGE_EXTENSIONS, open_rgb
from evalkit.types import GenerationConfig, ImageJob

class ImageFolderGenerator:
    """Reads the image for job (prompt id, index) from `path/<prompt id>/<index>.<ext>`."""

    name = "image_folder"

    def __init__(self, path: str, batch_size: int = 16):
        self.path = Path(path).expanduser()
        if not self.path.is_dir():
            raise UserError(f"image folder not found: {self.path} (expected <prompt-id>/<index>.png files)")
        self.batch_size = batch_size

    def _find(self, job: ImageJob) -> Path:
        for ext in IMAGE_EXTENSIONS:
            candidate = self.path / job.prompt.id / f"{job.index}{ext}"
            if candidate.is_file():
                return candidate
        raise UserError(
            f"image folder {self.path} has no image for prompt '{job.prompt.id}' index {job.index}: "
            f"expected {self.path / job.prompt.id / f'{job.index}.png'}"
        )

    def generate(self, jobs: Sequence[ImageJob], config: GenerationConfig) -> list:
        return [open_rgb(self._find(job)) for job in jobs]

    def fingerprint(self) -> dict:
        return {"generator": self.name, "path": str(self.path.resolve()), "dir_sha": dir_fingerprint(self.path)}
