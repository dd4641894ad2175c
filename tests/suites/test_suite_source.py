"""Data-file resolution: explicit path, $EVALKIT_DATA_DIR, checksum-verified cache downloads."""

from __future__ import annotations

import shutil
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from evalkit.errors import UserError
from evalkit.suites import drawbench, source

RAW_SHA = "b6d99b3151798b34f2ac3604d3701f66d66927b9e0f55785f3e1d7fdbc1f5fea"
NORM_SHA = "8974e036efe2b2ba5010bc7bd81203f2c9e0c18ba381a1479a1ddda7bbbf3f85"


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    """Refuse anything but file:// URLs, and start from a clean environment."""
    real = urllib.request.urlopen

    def guarded(url, *args, **kwargs):
        if not str(url).startswith("file://"):
            raise AssertionError(f"test tried to reach the network: {url}")
        return real(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", guarded)
    monkeypatch.delenv("EVALKIT_DATA_DIR", raising=False)
    monkeypatch.delenv("EVALKIT_CACHE", raising=False)


def _manifest(url: str, sums: list[str]) -> dict:
    return {"url": url, "filename": "drawbench.csv", "local_name": "drawbench.csv", "sha256": sums}


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_sha256_file_matches_sources(shared_data):
    assert source.sha256_file(shared_data / "drawbench.csv") == NORM_SHA
    assert source.sha256_file(shared_data / "raw" / "drawbench_original_sheet_export.csv") == RAW_SHA


def test_manifests_accept_the_published_files(shared_data):
    assert source.manifest_file("drawbench.yaml").is_file() and source.manifest_file("smoke.csv").is_file()
    draw = source.load_manifest("drawbench")
    assert set(draw["sha256"]) == {RAW_SHA, NORM_SHA}
    assert draw["rows"] == 200 and sum(draw["categories"].values()) == 200
    assert "12c59520669b195e919540b940a510cef6f46ae7" in draw["url"]
    parti = source.load_manifest("parti")
    assert source.sha256_file(shared_data / parti["local_name"]) in parti["sha256"]
    assert sum(parti["categories"].values()) == sum(parti["challenges"].values()) == parti["rows"] == 1632
    for name, variant in source.load_manifest("coco30k")["variants"].items():
        assert source.sha256_file(shared_data / variant["local_name"]) in variant["sha256"], name
        assert variant["rows"] == 30000 and variant["url"].startswith("https://raw.githubusercontent.com/")


def test_download_verifies_and_caches_atomically(shared_data, tmp_path):
    src = shared_data / "raw" / "drawbench_original_sheet_export.csv"
    cache = tmp_path / "cache"
    got = source.resolve_data_file(_manifest(src.as_uri(), [RAW_SHA]), cache_dir=cache)
    assert got == cache / "data" / "drawbench.csv"
    assert got.read_bytes() == src.read_bytes()
    assert _files(cache) == [got]  # no temp file left behind
    # Cached now: a dead URL no longer matters.
    again = source.resolve_data_file(_manifest((tmp_path / "gone.csv").as_uri(), [RAW_SHA]), cache_dir=cache)
    assert again == got


def test_download_with_wrong_checksum_is_refused_and_not_cached(shared_data, tmp_path):
    src = shared_data / "drawbench.csv"
    cache = tmp_path / "cache"
    with pytest.raises(UserError, match=r"checksum mismatch for drawbench.csv downloaded from file://.*pass path:"):
        source.resolve_data_file(_manifest(src.as_uri(), [RAW_SHA]), cache_dir=cache)
    assert _files(cache) == []


def test_cached_file_with_wrong_checksum_is_refused_not_deleted(tmp_path):
    cached = tmp_path / "data" / "drawbench.csv"
    cached.parent.mkdir()
    cached.write_text("Prompts,Category\nnot drawbench,Colors\n")
    with pytest.raises(UserError, match=r"drawbench.csv has sha256 [0-9a-f]{64}, expected b6d99b31.*use an unmodified copy"):
        source.resolve_data_file(_manifest("file:///unused", [RAW_SHA]), cache_dir=tmp_path)
    assert cached.is_file()


def test_unreachable_url_says_how_to_work_offline(tmp_path):
    manifest = _manifest((tmp_path / "missing.csv").as_uri(), [RAW_SHA])
    with pytest.raises(UserError, match="could not download drawbench.csv.*EVALKIT_DATA_DIR"):
        source.resolve_data_file(manifest, cache_dir=tmp_path / "cache")
    assert _files(tmp_path) == []


def test_explicit_path_is_verified_unless_told_not_to_and_must_exist(tmp_path, shared_data):
    mine = tmp_path / "my_copy.csv"
    mine.write_text("anything")
    with pytest.raises(UserError, match=f"my_copy.csv has sha256 [0-9a-f]{{64}}, expected {RAW_SHA}"):
        source.resolve_data_file(_manifest("file:///unused", [RAW_SHA]), path=mine)
    assert source.resolve_data_file(_manifest("file:///unused", [RAW_SHA]), path=mine, verify=False) == mine
    published = shared_data / "raw" / "drawbench_original_sheet_export.csv"
    assert source.resolve_data_file(_manifest("file:///unused", [RAW_SHA]), path=published) == published
    with pytest.raises(UserError, match=r"nope\.csv does not exist; pass path:"):
        source.resolve_data_file(_manifest("file:///unused", [RAW_SHA]), path=tmp_path / "nope.csv")


def test_data_dir_env_is_preferred_to_the_cache(shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("EVALKIT_DATA_DIR", str(shared_data))
    manifest = _manifest("file:///unused", [NORM_SHA])
    assert source.resolve_data_file(manifest, cache_dir=tmp_path) == shared_data / "drawbench.csv"
    with pytest.raises(UserError, match="expected b6d99b31"):  # a data-dir copy is verified too
        source.resolve_data_file(_manifest("file:///unused", [RAW_SHA]), cache_dir=tmp_path)
    # A data dir without the file falls through to the (download into the) cache.
    monkeypatch.setenv("EVALKIT_DATA_DIR", str(tmp_path / "empty"))
    src = shared_data / "raw" / "drawbench_original_sheet_export.csv"
    got = source.resolve_data_file(_manifest(src.as_uri(), [RAW_SHA]), cache_dir=tmp_path / "c")
    assert got == tmp_path / "c" / "data" / "drawbench.csv"


def test_cache_env_is_used_without_cache_dir(shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path))
    src = shared_data / "drawbench.csv"
    got = source.resolve_data_file(_manifest(src.as_uri(), [NORM_SHA]))
    assert got == tmp_path / "data" / "drawbench.csv"


def test_drawbench_loads_from_data_dir_and_from_cache_offline(shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("EVALKIT_DATA_DIR", str(shared_data))
    from_dir = drawbench.load(cache_dir=tmp_path)
    assert len(from_dir) == 200 and from_dir[0].meta["source_sha256"] == NORM_SHA
    monkeypatch.delenv("EVALKIT_DATA_DIR")
    cached = tmp_path / "data" / "drawbench.csv"
    cached.parent.mkdir()
    shutil.copyfile(shared_data / "raw" / "drawbench_original_sheet_export.csv", cached)
    from_cache = drawbench.load(cache_dir=tmp_path)
    assert from_cache[0].meta["source_sha256"] == RAW_SHA
    assert [(p.id, p.text, p.category) for p in from_cache] == [(p.id, p.text, p.category) for p in from_dir]


def test_check_counts_names_every_difference(tmp_path):
    with pytest.raises(UserError) as err:
        source.check_counts(tmp_path, Counter({"A": 2, "C": 1}), {"A": 3, "B": 1}, "category")
    message = str(err.value)
    assert "'A': 2 (expected 3)" in message and "'B': 0 (expected 1)" in message
    assert "'C': 1 (expected 0)" in message and "\n" not in message
