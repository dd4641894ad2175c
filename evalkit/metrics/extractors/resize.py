"""The two named ways of bringing an image to Inception's 299x299 input.

- `clean`: clean-fid's mode: each channel resized as a float image with PIL bicubic
  (antialiased), clipped to [0, 255].
- `legacy-tf`: torch-fidelity's / torchmetrics' (antialias=False) resize: TensorFlow 1.x
  bilinear without half-pixel centres and without antialiasing, on float uint8 values.

Both take HxWx3 uint8 and return 299x299x3 float32 in [0, 255]; the extractor maps
them to [-1, 1).
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


def _tf1_axis(in_size: int, size: int):
    """Source indices and weights of TF1 bilinear: src = dst * in/out, no half-pixel offset."""
    pos = np.arange(size, dtype=np.float32) * np.float32(in_size / size)
    lo = pos.astype(np.int64)
    hi = np.minimum(lo + 1, in_size - 1)
    return lo, hi, pos - lo.astype(np.float32)


def resize_legacy_tf(image: np.ndarray, size: int = SIZE) -> np.ndarray:
    """HxWx3 uint8 -> size x size x 3 float32, TF1 bilinear (align_corners=False, no antialias).

    The same float32 operations, in the same order, as torch-fidelity's
    `interpolate_bilinear_2d_like_tensorflow1x`; numpy so it runs beside the network
    without competing for torch's thread pool.
    """
    x = image.astype(np.float32)
    h, w = x.shape[:2]
    if (h, w) == (size, size):
        return x
    y0, y1, dy = _tf1_axis(h, size)
    x0, x1, dx = _tf1_axis(w, size)
    dx = dx[None, :, None]
    rows0, rows1 = x[y0], x[y1]
    top = rows0[:, x0] + (rows0[:, x1] - rows0[:, x0]) * dx
    bottom = rows1[:, x0] + (rows1[:, x1] - rows1[:, x0]) * dx
    return top + (bottom - top) * dy[:, None, None]
