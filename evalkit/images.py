"""Reading images, and paths under a folder: one place that turns a bad file or a hostile
name into a clear error."""

from __future__ import annotations

import os
from pathlib import Path

from evalkit.errors import UserError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")
MAX_PIXELS_ENV = "EVALKIT_MAX_IMAGE_PIXELS"
_WIDE_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def _to_rgb(img):
    """RGB 8-bit; 16-bit greyscale is scaled (65535 -> 255), not clipped to white."""
    import numpy as np
    from PIL import Image

    if img.mode in _WIDE_MODES:
        wide = np.asarray(img, dtype=np.float64)
        return Image.fromarray(np.clip(np.round(wide / 257.0), 0, 255).astype(np.uint8), "L").convert("RGB")
    return img.convert("RGB")


def open_rgb(path: Path):
    """Open an image file as an RGB PIL image, or raise a UserError naming the bad file."""
    from PIL import Image, UnidentifiedImageError

    if os.environ.get(MAX_PIXELS_ENV):
        Image.MAX_IMAGE_PIXELS = int(os.environ[MAX_PIXELS_ENV])
    try:
        with Image.open(path) as img:
            return _to_rgb(img)
    except Image.DecompressionBombError as err:
        raise UserError(f"image {path} is too large to open safely ({err}); if you trust it, raise the limit "
                        f"with {MAX_PIXELS_ENV}=<pixels>") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise UserError(f"cannot read image {path}: {err.__class__.__name__}: {err}; replace or delete the file") from None


def list_images(folder: Path) -> tuple[list[Path], list[Path]]:
    """(every image file below `folder`, sorted; the other files skipped); an error if no image."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    images = [p for p in files if p.suffix.lower() in IMAGE_EXTENSIONS]
    if not images:
        raise UserError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) found under {folder}")
    return images, [p for p in files if p.suffix.lower() not in IMAGE_EXTENSIONS]


def inside(root: Path, relative: str) -> Path:
    """`root / relative`, refused unless it stays inside root (no `..`, no absolute path)."""
    if "\0" in relative:
        raise UserError(f"path {relative!r} under {root} contains a NUL byte")
    path = root / relative
    base = os.path.realpath(root)
    if os.path.isabs(relative) or os.path.commonpath([base, os.path.realpath(path)]) != base:
        raise UserError(f"path {relative!r} would leave {root}; ids and file names must stay inside it")
    return path
