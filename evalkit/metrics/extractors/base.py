"""The feature-extractor interface: images -> (N, dim) float32 features, with a provenance
that says exactly which network, weights and preprocessing made them."""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from typing import Iterable, Iterator

import numpy as np

from evalkit.options import Component


def batched(items: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class FeatureExtractor(Component, ABC):
    """Features of images (HxWx3 uint8 arrays or PIL images); cached by image sha256 under `key`."""

    random_weights = False  # a built-in random-weight model: numbers check plumbing only

    @property
    @abstractmethod
    def dim(self) -> int:
        """Width of one feature vector."""

    @abstractmethod
    def provenance(self) -> dict:
        """Network, weights identity and preprocessing: recorded with every number made from it."""

    @abstractmethod
    def extract(self, images: Iterable) -> np.ndarray:
        """(N, dim) float32 features of `images`, in order (any iterable, e.g. a lazy decoder)."""

    def preprocess(self, image: np.ndarray):
        """One decoded image -> what `embed` takes. Runs in the loader's worker processes
        (resizing, normalising), so override it with the CPU work that parallelises."""
        return image

    def embed(self, batch: list) -> np.ndarray:
        """Features of a batch of `preprocess`ed images; override together with preprocess."""
        return self.extract(batch)

    @property
    def key(self) -> str:
        """Feature-cache key: the provenance, hashed (features differ whenever it does)."""
        blob = json.dumps(self.provenance(), sort_keys=True).encode()
        return f"{self.provenance().get('extractor', type(self).__name__)}-{hashlib.sha256(blob).hexdigest()[:12]}"
