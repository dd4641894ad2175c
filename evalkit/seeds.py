"""Per-image seeds derived from (run seed, prompt id, image index), never batch position."""

from __future__ import annotations

import hashlib


def image_seed(run_seed: int, prompt_id: str, index: int) -> int:
    """A 31-bit seed that depends only on the run seed, the prompt id and the image index."""
    digest = hashlib.sha256(f"{run_seed}\0{prompt_id}\0{index}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF
