"""PartiPrompts (P2): 1632 prompts with a category and a challenge each."""

from __future__ import annotations

import csv
import os
from collections import Counter
from typing import Iterable

from evalkit.errors import UserError
from evalkit.suites import source
from evalkit.suites.base import Suite
from evalkit.types import Prompt


def load(
    path: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    category: str | Iterable[str] | None = None,
    challenge: str | Iterable[str] | None = None,
    verify: bool = True,
) -> list[Prompt]:
    """Parti prompts, ids ``parti-0000`` … ``parti-1631`` (file order), optionally filtered.

    The whole file is verified first, so filtered ids stay the same as unfiltered ones.
    """
    manifest = source.load_manifest("parti")
    file = source.resolve_data_file(manifest, path, cache_dir, verify)
    # QUOTE_NONE: one prompt starts with '"' and a quote-aware reader would strip it.
    header, rows = source.read_table(file, delimiter="\t", quoting=csv.QUOTE_NONE)
    source.require_columns(file, header, ["Prompt", "Category", "Challenge", "Note"], "PartiPrompts")
    source.check_rows(file, len(rows), manifest["rows"], "PartiPrompts")
    source.check_counts(file, Counter(r["Category"] for _, r in rows), manifest["categories"], "Parti category")
    source.check_counts(file, Counter(r["Challenge"] for _, r in rows), manifest["challenges"], "Parti challenge")
    sha = source.sha256_file(file)
    prompts = [
        Prompt(
            id=source.index_id("parti", i, len(rows)),
            text=row["Prompt"],
            category=row["Category"],
            meta=source.frozen({"challenge": row["Challenge"], "note": row["Note"], "source_sha256": sha}),
        )
        for i, (_, row) in enumerate(rows)
    ]
    wanted_categories = _wanted(category, manifest["categories"], "Parti category")
    wanted_challenges = _wanted(challenge, manifest["challenges"], "Parti challenge")
    return [
        p
        for p in prompts
        if (wanted_categories is None or p.category in wanted_categories)
        and (wanted_challenges is None or p.meta["challenge"] in wanted_challenges)
    ]


def _wanted(value: str | Iterable[str] | None, choices: Iterable[str], what: str) -> set[str] | None:
    """Normalise a filter (one name or several) to a set, rejecting unknown names."""
    if value is None:
        return None
    values = [value] if isinstance(value, str) else list(value)
    if not values:
        raise UserError(f"empty {what} filter selects no prompts; leave it out to keep all")
    for v in values:
        source.check_choice(v, choices, what)
    return set(values)


class PartiOptions(source.PublicSuiteOptions):
    category: str | list[str] | None = None  # keep only these categories
    challenge: str | list[str] | None = None  # and these challenges


class PartiPrompts(Suite):
    """PartiPrompts (P2): 1632 prompts, 12 categories, 11 challenges."""

    Options = PartiOptions

    def prompts(self) -> list[Prompt]:
        o = self.options
        return load(o.path, o.cache_dir, o.category, o.challenge, o.verify)
