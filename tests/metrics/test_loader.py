"""Decoding and resizing in DataLoader workers gives exactly the features of the in-process
path, and a bad file in a worker is still one line naming it."""

from __future__ import annotations

import numpy as np
import pytest

from evalkit.builtin.procedural import draw
from evalkit.errors import UserError
from evalkit.metrics.extractors.inception import InceptionExtractor
from evalkit.metrics.extractors.loader import default_workers, extract_paths


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    root = tmp_path_factory.mktemp("loader")
    out = []
    for i in range(10):
        out.append(root / f"{i}.png")
        draw(i, 64).resize((80, 80)).save(out[-1])
    return out


@pytest.mark.parametrize("resize", ["clean", "legacy-tf"])
def test_workers_give_the_in_process_features(paths, resize):
    from PIL import Image

    inline = InceptionExtractor.create(resize=resize, batch_size=4)
    direct = inline.extract(np.asarray(Image.open(p).convert("RGB")) for p in paths)
    pooled = extract_paths(InceptionExtractor.create(resize=resize, batch_size=4, workers=2), paths)
    np.testing.assert_array_equal(pooled, direct)  # same preprocessing, same batches: identical
    assert pooled.shape == (10, 2048)


def test_a_bad_file_in_a_worker_is_one_line(paths, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(UserError, match=r"cannot read image .*bad.png") as err:
        extract_paths(InceptionExtractor.create(batch_size=2, workers=2), [*paths[:5], bad, *paths[5:]])
    assert "\n" not in str(err.value)


def test_default_workers_follow_the_core_count(monkeypatch):
    import os

    for cores, expected in ((1, 0), (2, 0), (4, 1), (16, 7), (64, 8)):
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid, n=cores: set(range(n)), raising=False)
        assert default_workers() == expected
