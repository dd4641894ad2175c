"""Fixtures for the generator tests: one torch thread, tiny prompts."""

from __future__ import annotations

import pytest

from evalkit.types import ImageJob, Prompt

@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """On a shared 2-core machine, 2 intra-op threads competing with other processes run
    tiny convolutions 5-20x slower than one thread does; restored afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _make_jobs(texts: list[str], seed0: int = 100) -> list[ImageJob]:
    return [ImageJob(Prompt(f"p{i}", text), 0, seed0 + i) for i, text in enumerate(texts)]


@pytest.fixture
def make_jobs():
    """make_jobs(texts, seed0=100): one job per text, prompt ids p0, p1, ..., seeds seed0 + i."""
    return _make_jobs
