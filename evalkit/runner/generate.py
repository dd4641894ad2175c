"""Generation stage: make the missing images of a run, in fixed batches, resumably."""

from __future__ import annotations

import time
from typing import Sequence

from evalkit.progress import progress
from evalkit.store import RunStore
from evalkit.types import GenerationConfig, ImageJob


def fixed_batches(jobs: Sequence[ImageJob], size: int) -> list[list[ImageJob]]:
    """Cut the job list into the same batches every time, whatever is already done."""
    return [list(jobs[i : i + size]) for i in range(0, len(jobs), size)]


def generate_missing(
    store: RunStore,
    generator,
    jobs: Sequence[ImageJob],
    config: GenerationConfig,
    rank: int = 0,
    world_size: int = 1,
) -> int:
    """Make every image of this rank's batches that is not on disk; returns how many were made.

    A batch with any missing image is generated whole (so each image comes out of the
    same batch as the first time, byte for byte) and only the missing ones are written.
    Generators load their model on first use, so a finished run loads no model.
    """
    batches = [
        b for i, b in enumerate(fixed_batches(jobs, generator.batch_size))
        if i % world_size == rank and any(not store.image_path(j.prompt.id, j.index).exists() for j in b)
    ]
    if not batches:
        return 0
    made = 0
    for batch in progress(batches, desc="generate", unit="batch"):
        start = time.perf_counter()
        images = generator.generate(batch, config)
        seconds = (time.perf_counter() - start) / len(batch)
        rows = []
        for job, image in zip(batch, images, strict=True):
            if store.image_path(job.prompt.id, job.index).exists():
                continue
            _, digest = store.write_image(job.prompt.id, job.index, image)
            rows.append({"prompt_id": job.prompt.id, "index": job.index, "seed": job.seed, "sha256": digest, "seconds": seconds})
        store.append_journal(rows, rank)
        made += len(rows)
    return made
