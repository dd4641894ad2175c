"""The typed-options cascades make the same pixels as the code before them, bit for bit.

data/cascade_reference.json holds the SHA-256 of every image's raw pixels, the load
order, the truncation count and the fingerprint of ten configurations (both adapters,
every encoder type, per-stage overrides, three schedulers, micro batches 1 and 2,
sequential and resident loading over two batches), made by the pre-refactor code at
commit 96daeef (see cascade_reference.py). CPU kernels are deterministic for a given torch
build and machine; the digests were made with the versions pinned in constraints.txt.
"""

from __future__ import annotations

import json

import pytest

from cascade_reference import CASES, DATA, run_case, versions

STORED = json.loads(DATA.read_text(encoding="utf-8"))


def test_reference_was_made_with_these_library_versions():
    assert STORED["versions"] == versions()


@pytest.mark.parametrize("name", list(CASES))
def test_same_images_loads_and_fingerprint_as_before(name):
    got, want = run_case(name), STORED["cases"][name]
    assert got["images"] == want["images"]
    assert got["loads"] == want["loads"]
    assert got["prompts_truncated"] == want["prompts_truncated"]
    # Folder content hashes (`*dir_sha`) changed definition since (full sha256s now); the rest must not.
    assert without_dir_hashes(got["fingerprint"]) == without_dir_hashes(want["fingerprint"])


def without_dir_hashes(value):
    if isinstance(value, dict):
        return {k: without_dir_hashes(v) for k, v in value.items() if not k.endswith("dir_sha")}
    if isinstance(value, list):
        return [without_dir_hashes(v) for v in value]
    return value
