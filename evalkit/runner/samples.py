"""The samples table: one row per image of a run, written to samples.parquet."""

from __future__ import annotations

import io
import json
from typing import Sequence

from evalkit.errors import UserError
from evalkit.store import RunStore, atomic_write, sha256_file
from evalkit.types import ImageJob

COLUMNS = ["prompt_id", "index", "text", "category", "seed", "path", "sha256", "generator", "seconds"]


def build_samples(store: RunStore, jobs: Sequence[ImageJob], fingerprint: dict):
    """Rows for every job from the journal; an image the journal missed (crash) is hashed."""
    import pandas as pd

    journal = store.read_journal()
    generator = json.dumps(fingerprint, sort_keys=True)
    rows = []
    for job in jobs:
        path = store.image_path(job.prompt.id, job.index)
        if not path.exists():
            raise UserError(f"image missing after generation: {path}; re-run the same command to make it")
        entry = journal.get((job.prompt.id, job.index), {})
        rows.append({
            "prompt_id": job.prompt.id,
            "index": job.index,
            "text": job.prompt.text,
            "category": job.prompt.category,
            "seed": job.seed,
            "path": store.relative(path),
            "sha256": entry.get("sha256") or sha256_file(path),
            "generator": generator,
            "seconds": entry.get("seconds", float("nan")),
        })
    return pd.DataFrame(rows, columns=COLUMNS)


def write_parquet(path, frame) -> None:
    def write(f):
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        f.write(buf.getvalue())

    atomic_write(path, write)
