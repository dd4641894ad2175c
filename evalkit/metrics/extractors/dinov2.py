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

from typing import Literal

import numpy as np

from evalkit.metrics.extractors.base import FeatureExtractor, batched
from evalkit.metrics.extractors.options import ExtractorOptions
from evalkit.metrics.extractors.resize import resize_clean
from evalkit.metrics.hub_model import HubModel

SIZE = 224
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
HUB_MODELS = ("facebook/dinov2-small", "facebook/dinov2-base", "facebook/dinov2-large", "facebook/dinov2-giant")


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
        self.hub = HubModel(o.model, o.revision, "DINOv2 model",
                            "pass model: a local folder made by save_pretrained, or builtin:tiny-dinov2")
        self.random_weights = self.hub.random_weights
        self.model = self.hub.load(Dinov2Model.from_pretrained).to(o.device).eval()
        self._dim = int(self.model.config.hidden_size)

    @property
    def dim(self) -> int:
        return self._dim

    def provenance(self) -> dict:
        return {"extractor": "dinov2", **self.hub.provenance("dinov2", self.model),
                "preprocess": f"{self.options.resize} resize to {SIZE}x{SIZE}, ImageNet mean/std; CLS token after the "
                              "final norm"}

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
