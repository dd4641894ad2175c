"""builtin:procedural: seeded procedural images (shapes on gradients), a stand-in FID
reference for the offline smoke benchmark only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

COUNT, SIZE = 48, 64


def draw(seed: int, size: int = SIZE):
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    top, bottom = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    ramp = np.linspace(0, 1, size)[:, None, None]
    base = (top * (1 - ramp) + bottom * ramp).astype(np.uint8).repeat(size, axis=1)
    img = Image.fromarray(base)
    pen = ImageDraw.Draw(img)
    for _ in range(rng.integers(1, 5)):
        x0, y0 = rng.integers(0, size - 8, 2)
        x1, y1 = x0 + rng.integers(6, size // 2), y0 + rng.integers(6, size // 2)
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        (pen.ellipse if rng.random() < 0.5 else pen.rectangle)([int(x0), int(y0), int(x1), int(y1)], fill=fill)
    return img


def build(out_dir: Path) -> None:
    for i in range(COUNT):
        draw(i).save(out_dir / f"{i:04d}.png")
