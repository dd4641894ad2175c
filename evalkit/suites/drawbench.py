"""DrawBench (Imagen): 200 prompts in 11 categories, verified against its manifest."""

from __future__ import annotations

import os
from collections import Counter

from evalkit.suites import source
from evalkit.suites.base import Suite
from evalkit.types import Prompt


def load(
    path: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    verify: bool = True,
) -> list[Prompt]:
    """DrawBench prompts in file order, ids ``drawbench-000`` … ``drawbench-199``.

    Reads either the original sheet export (CRLF, `Gary Marcus et al. `) or the
    normalised copy; both give the same prompts and categories.
    """
    manifest = source.load_manifest("drawbench")
    file = source.resolve_data_file(manifest, path, cache_dir, verify)
    header, rows = source.read_table(file)
    source.require_columns(file, header, ["Prompts", "Category"], "DrawBench")
    source.check_rows(file, len(rows), manifest["rows"], "DrawBench")
    # The sheet has a trailing space in one category; prompt text stays byte-exact.
    categories = [row["Category"].rstrip() for _, row in rows]
    source.check_counts(file, Counter(categories), manifest["categories"], "DrawBench category")
    meta = source.frozen({"source_sha256": source.sha256_file(file)})
    return [
        Prompt(id=source.index_id("drawbench", i, len(rows)), text=row["Prompts"], category=cat, meta=meta)
        for i, ((_, row), cat) in enumerate(zip(rows, categories))
    ]


class DrawBench(Suite):
    """Imagen's DrawBench: 200 prompts, 11 categories."""

    Options = source.PublicSuiteOptions

    def prompts(self) -> list[Prompt]:
        return load(self.options.path, self.options.cache_dir, self.options.verify)
