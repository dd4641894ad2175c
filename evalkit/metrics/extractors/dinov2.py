"""DINOv2 image features (FD-DINOv2, Stein et al. 2023) through transformers `Dinov2Model`.

Preprocessing is dgm-eval's (layer6ai-labs/dgm-eval, `DINOv2Encoder.transform`), the
reference implementation of FD-DINOv2:
- `bicubic` (its default): the image resized to 224x224 with PIL bicubic (what
  torchvision's `Resize((224, 224), BICUBIC)` does to a PIL image), scaled to [0, 1];
- `clean` (its `--clean_resize`): each channel resized as a float image (clean-fid's
  resize, evalkit's `resize_clean`), clipped to [0, 255], scaled to [0, 1];
then normalised with the ImageNet mean/std. The feature is the CLS token after the final
layer norm (`pooler_output`; torch.hub's `x_norm_clstoken`), not L2-normalised.
dgm-eval's default network is ViT-L/14 (`facebook/dinov2-large` on the hub).
"""

from __future__ import annotations

import os
from typing import Literal

import numpy as np

from evalkit import builtin
from evalkit.errors import UserError
from evalkit.fingerprint import dir_fingerprint
from evalkit.metrics.extractors.base import FeatureExtractor, batched
from evalkit.metrics.extractors.options import ExtractorOptions
from evalkit.metrics.extractors.resize import resize_clean

SIZE = 224
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
HUB_MODELS = ("facebook/dinov2-small", "facebook/dinov2-base", "facebook/dinov2-large", "facebook/dinov2-giant")
RANDOM_WEIGHTS_NOTE = "RANDOM (built-in tiny model): features check the pipeline, not image quality"


class Dinov2Options(ExtractorOptions):
    model: str = "facebook/dinov2-large"  # a hub id (facebook/dinov2-small ... -giant), a save_pretrained folder, builtin:tiny-dinov2
    revision: str | None = None  # hub revision (branch, tag or commit)
    resize: Literal["bicubic", "clean"] = "bicubic"


def dinov2_input(image: np.ndarray, resize: str = "bicubic") -> np.ndarray:
    """HxWx3 uint8 -> 3x224x224 float32 network input (dgm-eval's transform, in numpy)."""
    from PIL import Image

    if resize == "clean":
        x = resize_clean(np.asarray(image), SIZE) / np.float32(255)
    else:
        pil = image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image))
        x = np.asarray(pil.convert("RGB").resize((SIZE, SIZE), Image.BICUBIC), np.float32) / np.float32(255)
    mean, std = np.asarray(IMAGENET_MEAN, np.float32), np.asarray(IMAGENET_STD, np.float32)
    return ((x - mean) / std).transpose(2, 0, 1).astype(np.float32)


class Dinov2Extractor(FeatureExtractor):
    """Images -> (N, hidden_size) DINOv2 CLS features (1024-d for ViT-L/14)."""

    Options = Dinov2Options

    def __init__(self, options: Dinov2Options | None = None):
        super().__init__(options)
        from transformers import Dinov2Model

        from evalkit.hf import quiet_hf_logging

        quiet_hf_logging()
        o = self.options
        self.random_weights = builtin.is_builtin(o.model)
        self._source = str(builtin.resolve(o.model)) if self.random_weights else o.model
        try:
            self.model = Dinov2Model.from_pretrained(self._source, revision=o.revision).to(o.device).eval()
        except (OSError, ValueError) as err:
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise UserError(f"could not load DINOv2 model '{o.model}': {first} (offline? pass model: a local folder "
                            "made by save_pretrained, or builtin:tiny-dinov2)") from None
        self._dim = int(self.model.config.hidden_size)

    @property
    def dim(self) -> int:
        return self._dim

    def provenance(self) -> dict:
        o = self.options
        info = {"extractor": "dinov2", "dinov2_model": o.model, "dinov2_revision": o.revision,
                "preprocess": f"{o.resize} resize to {SIZE}x{SIZE}, ImageNet mean/std; CLS token after the final norm"}
        commit = getattr(self.model.config, "_commit_hash", None)
        if commit:
            info["dinov2_commit"] = commit
        if os.path.isdir(self._source):
            info["dinov2_dir_sha"] = dir_fingerprint(self._source)
        if self.random_weights:
            info["dinov2_weights"] = RANDOM_WEIGHTS_NOTE
        return info

    def preprocess(self, image) -> np.ndarray:
        """One image -> its 3x224x224 input (runs in the loader's workers)."""
        return dinov2_input(image, self.options.resize)

    def embed(self, batch: list) -> np.ndarray:
        import torch

        with torch.inference_mode():
            out = self.model(pixel_values=torch.from_numpy(np.stack(batch)).to(self.options.device))
        return out.pooler_output.float().cpu().numpy()

    def extract(self, images) -> np.ndarray:
        """Features of images (any iterable), in batches, in this process."""
        parts = [self.embed([self.preprocess(im) for im in batch]) for batch in batched(images, self.options.batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), np.float32)
