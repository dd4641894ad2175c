"""Generation stage: make the missing images of a run, in fixed batches, resumably."""

from __future__ import annotations

import logging
import os
import time
from typing import Sequence

from evalkit.fingerprint import file_hashes
from evalkit.progress import progress
from evalkit.store import RunStore
from evalkit.types import GenerationConfig, ImageJob

# Test hook (tests/runner/test_distributed.py): "RANK:N" makes process RANK exit at once,
# like a killed worker, after it has written and journaled N batches.
TEST_EXIT_ENV = "EVALKIT_TEST_EXIT_AFTER_BATCHES"
log = logging.getLogger("evalkit")


def fixed_batches(jobs: Sequence[ImageJob], size: int) -> list[list[ImageJob]]:
    """Cut the job list into the same batches every time, whatever is already done."""
    return [list(jobs[i : i + size]) for i in range(0, len(jobs), size)]


def _has_missing(store: RunStore, batch: Sequence[ImageJob]) -> bool:
    return any(not store.image_path(j.prompt.id, j.index).exists() for j in batch)


def verify_images(store: RunStore, jobs: Sequence[ImageJob]) -> int:
    """Delete every image whose bytes no longer match the sha256 its journal recorded (a
    corrupted or edited file), so it is made again; returns how many. Images are hashed
    once and then remembered by size and mtime, so this is cheap on a re-run."""
    journal = store.read_journal()
    recorded, paths = [], []
    for job in jobs:
        entry = journal.get((job.prompt.id, job.index))
        path = store.image_path(job.prompt.id, job.index)
        if entry and entry.get("sha256") and path.exists():
            recorded.append(entry["sha256"])
            paths.append(path)
    stale = [p for p, want, got in zip(paths, recorded, file_hashes(paths)) if want != got]
    for path in stale:
        log.warning("image %s does not match its recorded sha256; making it again", path)
        path.unlink()
    return len(stale)


def missing_batches(store: RunStore, jobs: Sequence[ImageJob], batch_size: int) -> list[int]:
    """Indices of the fixed batches with at least one image not on disk.

    Scanned once (by the main process) and shared, so all processes split the same list.
    """
    return [i for i, b in enumerate(fixed_batches(jobs, batch_size)) if _has_missing(store, b)]


def generate_missing(
    store: RunStore,
    generator,
    jobs: Sequence[ImageJob],
    config: GenerationConfig,
    rank: int = 0,
    world_size: int = 1,
    todo: Sequence[int] | None = None,
) -> int:
    """Make every image of this rank's batches that is not on disk; returns how many were made.

    With `todo` (from `missing_batches`) this rank takes every world_size-th batch of it,
    so a resumed run spreads the remaining work evenly; without it, every world_size-th
    batch of the whole run. Which process makes a batch does not change its bytes.
    A batch with any missing image is generated whole (so each image comes out of the
    same batch as the first time, byte for byte) and only the missing ones are written.
    Generators load their model on first use, so a finished run loads no model.
    """
    batches = fixed_batches(jobs, generator.batch_size)
    if todo is None:
        mine = [b for i, b in enumerate(batches) if i % world_size == rank and _has_missing(store, b)]
    else:
        mine = [batches[i] for i in list(todo)[rank::world_size]]
    if not mine:
        return 0
    made = 0
    for done, batch in enumerate(progress(mine, desc="generate", unit="batch") if rank == 0 else mine, 1):
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
        if os.environ.get(TEST_EXIT_ENV) == f"{rank}:{done}":
            os._exit(1)
    return made
