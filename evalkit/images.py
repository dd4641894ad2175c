"""Reading images: one place that turns a bad file into a clear error."""

from __future__ import annotations

from pathlib import Path

from evalkit.errors import UserError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp")


def open_rgb(path: Path):
    """Open an image file as an RGB PIL image, or raise a UserError naming the bad file."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise UserError(f"cannot read image {path}: {err.__class__.__name__}: {err}; replace or delete the file") from None


def list_images(folder: Path) -> list[Path]:
    """Every image file below `folder`, sorted; an error if there is none."""
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
    if not files:
        raise UserError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) found under {folder}")
    return files
