"""COCO-30K: both published formats, stable ids, exact captions, deterministic subsampling."""

from __future__ import annotations

import re

import pytest

from evalkit.errors import UserError
from evalkit.suites import coco


@pytest.fixture(scope="module")
def erasing_file(shared_data):
    return shared_data / "coco" / "coco_30k.csv"


@pytest.fixture(scope="module")
def bk_file(shared_data):
    return shared_data / "coco" / "mscoco_val2014_30k" / "metadata.csv"


@pytest.fixture(scope="module")
def erasing(erasing_file):
    return coco.load(erasing_file)


@pytest.fixture(scope="module")
def bk(bk_file):
    return coco.load(bk_file, variant="bk-sdm")


def test_erasing_format(erasing):
    assert len(erasing) == 30000 and len({p.id for p in erasing}) == 30000
    first = erasing[0]
    assert first.id == "coco-000000203564" and first.category is None
    assert first.text == "A bicycle replica with a clock as the front wheel."
    assert dict(first.meta) == {
        "image_id": 203564, "evaluation_seed": 41337, "source_sha256": first.meta["source_sha256"]
    }


def test_captions_are_kept_exactly(erasing):
    assert sum("\n" in p.text for p in erasing) == 97
    assert not any("\r" in p.text for p in erasing)
    assert any(p.text.endswith(" ") for p in erasing)  # trailing spaces not stripped


def test_bk_sdm_format(bk):
    assert len(bk) == 30000
    assert bk[0].id == "coco-000000000042" and bk[0].meta["image_id"] == 42
    assert bk[0].text == "A small dog is curled up on top of the shoes"
    assert "evaluation_seed" not in bk[0].meta
    assert all(re.fullmatch(r"coco-\d{12}", p.id) for p in bk)
    assert [p.id for p in bk] == sorted(p.id for p in bk)


def test_both_formats_agree_on_shared_images(erasing, bk):
    a = {p.id: p for p in erasing}
    b = {p.id: p for p in bk}
    shared = a.keys() & b.keys()
    assert len(shared) == 22205
    assert all(a[i].meta["image_id"] == b[i].meta["image_id"] == int(i[5:]) for i in shared)
    # Each file picked one of the image's 5 captions; where they picked the same one, texts agree.
    assert sum(a[i].text.strip() == b[i].text for i in shared) == 4493


def test_format_comes_from_header_with_explicit_path(bk_file, bk):
    assert coco.load(bk_file, variant="erasing") == bk


def test_subsample_is_deterministic_seeded_and_in_file_order(erasing_file, erasing):
    one = coco.load(erasing_file, limit=100, seed=1)
    assert len(one) == 100
    assert one == coco.load(erasing_file, limit=100, seed=1)
    assert [p.id for p in one] != [p.id for p in coco.load(erasing_file, limit=100, seed=2)]
    order = {p.id: i for i, p in enumerate(erasing)}
    positions = [order[p.id] for p in one]
    assert positions == sorted(positions)
    assert coco.subsample(30000, 100, 1) == positions


def test_bad_limits_and_variants_are_refused(erasing_file):
    with pytest.raises(UserError, match="limit 30001 is more than the 30000 COCO captions"):
        coco.load(erasing_file, limit=30001)
    with pytest.raises(UserError, match="positive whole number"):
        coco.load(erasing_file, limit=0)
    with pytest.raises(UserError, match="did you mean 'bk-sdm'"):
        coco.load(erasing_file, variant="bk_sdm")


def test_malformed_files_are_refused(erasing_file, tmp_path):
    head = erasing_file.read_bytes().split(b"\r\n")[:11]
    short = tmp_path / "short.csv"
    short.write_bytes(b"\r\n".join(head) + b"\r\n")
    with pytest.raises(UserError, match="short.csv has sha256 .*expected 42c57b18"):
        coco.load(short)
    with pytest.raises(UserError, match="has 10 prompts, expected 30000"):
        coco.load(short, verify=False)
    other = tmp_path / "other.csv"
    other.write_text("id,caption\n1,a cat\n")
    with pytest.raises(UserError, match="expected a COCO-30K file with header"):
        coco.load(other)
