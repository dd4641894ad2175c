"""Fixtures for the generator tests: one torch thread, the cascades registered, tiny prompts."""

from __future__ import annotations

import pytest

from evalkit import registry
from evalkit.types import ImageJob, Prompt

# Registered here until evalkit/registry.py lists them (setitem is a no-op once it does).
CASCADES = {
    "imagen_cascade": "evalkit.generators.imagen_cascade:ImagenCascadeGenerator",
    "deepfloyd_if": "evalkit.generators.deepfloyd_if:DeepFloydIFGenerator",
}


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """On a shared 2-core machine, 2 intra-op threads competing with other processes run
    tiny convolutions 5-20x slower than one thread does; restored afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def cascades_registered(monkeypatch):
    for name, target in CASCADES.items():
        monkeypatch.setitem(registry.GENERATORS, name, target)


def _make_jobs(texts: list[str], seed0: int = 100) -> list[ImageJob]:
    return [ImageJob(Prompt(f"p{i}", text), 0, seed0 + i) for i, text in enumerate(texts)]


@pytest.fixture
def make_jobs():
    """make_jobs(texts, seed0=100): one job per text, prompt ids p0, p1, ..., seeds seed0 + i."""
    return _make_jobs
