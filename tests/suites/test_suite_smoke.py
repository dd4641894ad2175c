"""Smoke suite: 22 shipped prompts, exactly 2 per DrawBench category."""

from __future__ import annotations

import re
from collections import Counter

from evalkit import registry
from evalkit.suites import drawbench, smoke


def test_two_prompts_per_drawbench_category(shared_data):
    prompts = smoke.load()
    assert len(prompts) == 22
    categories = {p.category for p in drawbench.load(shared_data / "drawbench.csv")}
    assert Counter(p.category for p in prompts) == {c: 2 for c in categories}


def test_ids_and_texts():
    prompts = smoke.load()
    assert all(re.fullmatch(r"smoke-[a-z-]+-[12]", p.id) for p in prompts)
    assert len({p.id for p in prompts}) == len({p.text for p in prompts}) == 22
    assert {p.id for p in prompts} >= {"smoke-colors-1", "smoke-text-2", "smoke-gary-marcus-1"}
    assert all("'" in p.text for p in prompts if p.category == "Text")


def test_registered_as_suite():
    suite = registry.SUITES.load("smoke")
    assert suite is smoke.Smoke and suite().prompts() == smoke.load()
