"""Smoke suite: 22 self-written prompts, 2 per DrawBench category, shipped with evalkit (offline)."""

from __future__ import annotations

from collections import Counter

from evalkit.suites import files, source
from evalkit.suites.base import Suite
from evalkit.types import Prompt

PER_CATEGORY = 2


def load() -> list[Prompt]:
    """The 22 prompts of ``manifests/smoke.csv`` (package data), ids like ``smoke-colors-1``."""
    path = source.manifest_file("smoke.csv")
    prompts = files.load(path, category_column="category")
    # Same category names as DrawBench, so smoke runs exercise per-category reporting.
    expected = {c: PER_CATEGORY for c in source.load_manifest("drawbench")["categories"]}
    source.check_counts(path, Counter(p.category for p in prompts), expected, "smoke category")
    return prompts


class Smoke(Suite):
    """22 self-written prompts, 2 per DrawBench category (offline)."""

    def prompts(self) -> list[Prompt]:
        return load()
