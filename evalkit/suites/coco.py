"""COCO val2014 30K captions (zero-shot FID-30K), in either published format.

Formats, told apart by their header:
- ``erasing``: ``image_id,source,prompt,evaluation_seed`` (raw captions, per-image seed);
- ``bk-sdm``: ``file_name,text`` with ``COCO_val2014_000000000042.jpg`` names.
Both give ids ``coco-<12-digit image id>``, so the same image has the same id.
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from evalkit.errors import UserError
from evalkit.suites import source
from evalkit.suites.base import Suite
from evalkit.types import Prompt

_HEADERS = {
    "erasing": ["image_id", "source", "prompt", "evaluation_seed"],
    "bk-sdm": ["file_name", "text"],
}
_FILE_NAME = re.compile(r"COCO_val2014_(\d+)\.jpg")


def load(
    path: str | os.PathLike[str] | None = None,
    variant: str = "erasing",
    limit: int | None = None,
    seed: int = 0,
    cache_dir: str | os.PathLike[str] | None = None,
    verify: bool = True,
) -> list[Prompt]:
    """COCO-30K captions in file order; `limit` picks a seed-determined subset, kept in file order.

    Caption text is exactly what the csv module returns (embedded newlines and
    trailing spaces kept). With an explicit `path` the format comes from the header.
    """
    manifest = source.load_manifest("coco30k")
    source.check_choice(variant, manifest["variants"], "coco30k variant")
    # Verified below against the format its header shows (an explicit path may hold either).
    file = source.resolve_data_file(manifest["variants"][variant], path, cache_dir, verify=False)
    header, rows = source.read_table(file)
    fmt = _detect_format(file, header)
    source.verified(file, manifest["variants"][fmt], verify)
    source.check_rows(file, len(rows), manifest["variants"][fmt]["rows"], "COCO-30K")
    sha = source.sha256_file(file)
    parse = _parse_erasing if fmt == "erasing" else _parse_bk_sdm
    prompts = [_prompt(*parse(file, line, row), sha) for line, row in rows]
    source.check_unique_ids(file, [(line, p.id) for (line, _), p in zip(rows, prompts)])
    if limit is None:
        return prompts
    return [prompts[i] for i in subsample(len(prompts), limit, seed)]


def subsample(n: int, limit: int, seed: int, what: str = "COCO captions") -> list[int]:
    """`limit` distinct indices of range(n), chosen by `seed`, sorted back into file order."""
    source.check_limit(limit, n, what)
    return sorted(random.Random(seed).sample(range(n), limit))


def _detect_format(file: Path, header: list[str]) -> str:
    for fmt, expected in _HEADERS.items():
        if header == expected:
            return fmt
    raise UserError(
        f"{file} has header {','.join(header)}; expected a COCO-30K file with header "
        f"{' or '.join(','.join(h) for h in _HEADERS.values())}"
    )


def _image_id(file: Path, line: int, raw: str) -> int:
    if not (raw.isascii() and raw.isdigit()):
        raise UserError(f"{file} line {line}: bad COCO image id {raw!r}; expected digits")
    return int(raw)


def _parse_erasing(file: Path, line: int, row: dict[str, str]) -> tuple[int, str, dict[str, Any]]:
    seed = row["evaluation_seed"]
    if not (seed.isascii() and seed.strip().isdigit()):
        raise UserError(f"{file} line {line}: bad evaluation_seed {seed!r}; expected a whole number")
    return _image_id(file, line, row["image_id"]), row["prompt"], {"evaluation_seed": int(seed)}


def _parse_bk_sdm(file: Path, line: int, row: dict[str, str]) -> tuple[int, str, dict[str, Any]]:
    match = _FILE_NAME.fullmatch(row["file_name"])
    if match is None:
        raise UserError(
            f"{file} line {line}: file_name {row['file_name']!r} is not like COCO_val2014_000000000042.jpg"
        )
    return int(match.group(1)), row["text"], {}


def _prompt(image_id: int, text: str, extra: dict[str, Any], sha: str) -> Prompt:
    meta = {"image_id": image_id, **extra, "source_sha256": sha}
    return Prompt(id=f"coco-{image_id:012d}", text=text, category=None, meta=source.frozen(meta))



class CocoOptions(source.PublicSuiteOptions):
    variant: Literal["erasing", "bk-sdm"] = "erasing"
    limit: int | None = Field(None, ge=1)  # a seed-determined subset of this many captions
    seed: int = 0


class Coco30k(Suite):
    """COCO val2014 30K captions for zero-shot FID-30K (limit/seed subsampling)."""

    Options = CocoOptions

    def prompts(self) -> list[Prompt]:
        o = self.options
        return load(o.path, o.variant, o.limit, o.seed, o.cache_dir, o.verify)
