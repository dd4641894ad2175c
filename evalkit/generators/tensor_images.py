"""Tensors in [-1, 1] to PIL images, rounded the way diffusers' numpy_to_pil rounds."""

from __future__ import annotations


def to_pil(images) -> list:
    from PIL import Image

    arr = ((images.detach().float().cpu() / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1).numpy() * 255).round()
    return [Image.fromarray(a.astype("uint8")) for a in arr]


def chunks(items: list, size: int | None) -> list[list]:
    """Consecutive slices of at most `size` items (all of them when size is None)."""
    size = size or max(len(items), 1)
    return [items[i : i + size] for i in range(0, len(items), size)]
