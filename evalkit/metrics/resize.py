"""The two named ways of bringing an image to Inception's 299x299 input.

- `clean`: clean-fid's mode: each channel resized as a float image with PIL bicubic
  (antialiased), clipped to [0, 255].
- `legacy-tf`: torch-fidelity's / torchmetrics' (antialias=False) resize: TensorFlow 1.x
  bilinear without half-pixel centres and without antialiasing, on float uint8 values.

Both return float32 arrays in [0, 255]; the extractor maps them to [-1, 1).
"""

from __future__ import annotations

import numpy as np

SIZE = 299
MODES = ("clean", "legacy-tf")


def resize_clean(image: np.ndarray, size: int = SIZE) -> np.ndarray:
    """HxWx3 uint8 -> size x size x 3 float32 (clean-fid: PIL bicubic per float channel)."""
    from PIL import Image

    if image.shape[:2] == (size, size):
        return image.astype(np.float32)
    channels = [
        np.asarray(Image.fromarray(image[:, :, c].astype(np.float32), mode="F").resize((size, size), Image.BICUBIC))
        for c in range(3)
    ]
    return np.clip(np.stack(channels, axis=2), 0, 255).astype(np.float32)


def resize_legacy_tf(batch, size: int = SIZE):
    """NCHW float tensor -> N x C x size x size, TF1 bilinear (align_corners=False, no half-pixel)."""
    import torch

    n, c, h, w = batch.shape
    if (h, w) == (size, size):
        return batch

    def axis(in_size: int):
        pos = torch.arange(size, dtype=torch.float32) * (in_size / size)
        lo = pos.long()
        hi = (lo + 1).clamp_max(in_size - 1)
        return lo, hi, pos - lo.float()

    y0, y1, dy = axis(h)
    x0, x1, dx = axis(w)
    rows0, rows1 = batch[:, :, y0, :], batch[:, :, y1, :]
    top = rows0[..., x0] + (rows0[..., x1] - rows0[..., x0]) * dx
    bottom = rows1[..., x0] + (rows1[..., x1] - rows1[..., x0]) * dx
    return top + (bottom - top) * dy[:, None]
