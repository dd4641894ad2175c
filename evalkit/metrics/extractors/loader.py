"""Decoding and preprocessing images in worker processes (a torch DataLoader) while the
network runs, for large extractions on machines with cores to spare."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import numpy as np

from evalkit.errors import UserError
from evalkit.images import open_rgb
from evalkit.metrics.extractors.base import batched


def default_workers() -> int:
    """No workers on small machines (the network already keeps 2 cores busy; measured no
    gain), else a worker per two cores beyond the first two, at most 8."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return 0 if cores <= 2 else min(8, (cores - 2 + 1) // 2)


class _Prepared:
    """A map-style dataset: path -> the extractor's preprocessed image (errors as messages,
    so that a worker's UserError reaches the user as its one line, not a worker traceback)."""

    def __init__(self, paths: list[Path], preprocess):
        self.paths, self.preprocess = paths, preprocess

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int):
        try:
            return self.preprocess(np.asarray(open_rgb(self.paths[i])))
        except UserError as err:
            return err


def _raise_errors(batch: list) -> list:
    for item in batch:
        if isinstance(item, UserError):
            raise UserError(str(item))
    return batch


def prepared_batches(extractor, paths: list[Path]) -> Iterator[list]:
    """Batches of `extractor.preprocess`ed images of `paths`, in order."""
    dataset = _Prepared(paths, extractor.preprocess)
    workers = extractor.options.workers
    workers = default_workers() if workers is None else workers
    if workers == 0 or len(paths) <= extractor.options.batch_size:
        yield from (_raise_errors(b) for b in batched((dataset[i] for i in range(len(dataset))), extractor.options.batch_size))
        return
    from torch.utils.data import DataLoader

    loader = DataLoader(dataset, batch_size=extractor.options.batch_size, num_workers=workers, collate_fn=list,
                        prefetch_factor=2)
    yield from (_raise_errors(b) for b in loader)


def extract_paths(extractor, paths: list[Path]) -> np.ndarray:
    """Features of the images at `paths`, decoded and preprocessed by the loader."""
    parts = [extractor.embed(batch) for batch in prepared_batches(extractor, paths)]
    return np.concatenate(parts) if parts else np.zeros((0, extractor.dim), np.float32)
