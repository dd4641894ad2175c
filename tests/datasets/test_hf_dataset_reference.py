"""Reference images from a datasets image column: the same features (by image-bytes sha256,
in the same cache), FID and KID as the same images given as a folder; fid-stats from a
dataset (also sharded over two processes) and from pytorch-fid / clean-fid .npz files."""

from __future__ import annotations

import json
import numpy as np
import pandas as pd
import pytest

from evalkit.builtin.procedural import draw
from evalkit.cli import main
from evalkit.config import parse_spec
from evalkit.errors import UserError
from evalkit.runner.run import run_benchmark

N_GEN, N_REF = 8, 12


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Generated images laid out for image_folder, real images as a folder, a parquet written by
    datasets (bytes embedded, Image feature) and one written by pandas ({bytes, path} structs)."""
    import datasets

    root = tmp_path_factory.mktemp("ref-dataset")
    (root / "ref").mkdir()
    for i in range(N_REF):
        draw(i, 64).save(root / "ref" / f"{i:02d}.png")
    for i in range(N_GEN):
        (root / "gen" / f"p{i}").mkdir(parents=True)
        draw(500 + i, 48).save(root / "gen" / f"p{i}" / "0.png")
    (root / "prompts.csv").write_text("id,text\n" + "".join(f"p{i},picture {i}\n" for i in range(N_GEN)))
    files = sorted((root / "ref").glob("*.png"))
    ds = datasets.Dataset.from_dict({"image": [str(f) for f in files], "n": list(range(N_REF))})
    ds.cast_column("image", datasets.Image()).to_parquet(str(root / "ref.parquet"))
    pd.DataFrame({"picture": [{"bytes": f.read_bytes(), "path": f.name} for f in files]}).to_parquet(root / "pandas.parquet")
    return root


def spec(data, reference: dict) -> dict:
    return {
        "name": "ref", "suite": {"name": "file", "path": str(data / "prompts.csv")},
        "generator": {"name": "image_folder", "path": str(data / "gen")},
        "reference": reference,
        "metrics": {"fid": {"bootstrap": 0}, "kid": {"subset_size": N_GEN, "subsets": 20}},
    }


def values(summary) -> dict:
    return {key: e.value for _, key, e in summary.results.estimates()}


@pytest.mark.slow
def test_a_dataset_reference_gives_the_folders_fid_and_kid(data, tmp_path, monkeypatch):
    folder = run_benchmark(parse_spec(spec(data, {"images": str(data / "ref")})), tmp_path / "a")
    monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path / "fresh-cache"))  # extracted again, from the dataset's bytes
    cache = {"cache_dir": str(tmp_path / "datasets-cache")}
    sources = [{"path": "parquet", "data_files": str(data / "ref.parquet"), **cache},
               {"path": "parquet", "data_files": str(data / "pandas.parquet"), "image_column": "picture", **cache},
               {"path": "imagefolder", "data_dir": str(data / "ref"), **cache}]
    for i, source in enumerate(sources):
        summary = run_benchmark(parse_spec(spec(data, {"dataset": source})), tmp_path / f"d{i}")
        assert values(summary) == values(folder)  # exactly
        provenance = summary.results.metrics["fid"].provenance
        assert provenance["reference_n"] == N_REF and provenance["reference_dataset"]["path"] == source["path"]
        assert provenance["reference_dataset"]["split"] == "train"


def test_a_dataset_reference_shares_the_folders_feature_cache(data, tmp_path, evalkit_cache):
    run_benchmark(parse_spec(spec(data, {"images": str(data / "ref")})), tmp_path / "a")
    chunks = sorted((evalkit_cache / "features").rglob("chunk-*.npz"))
    source = {"path": "parquet", "data_files": str(data / "ref.parquet"), "cache_dir": str(tmp_path / "dc")}
    run_benchmark(parse_spec(spec(data, {"dataset": source})), tmp_path / "b")
    assert sorted((evalkit_cache / "features").rglob("chunk-*.npz")) == chunks  # nothing new was extracted


def test_a_limit_takes_a_seeded_subset(data, tmp_path):
    from evalkit.suites.hf_dataset import DatasetImages, image_rows

    def rows(seed):
        return image_rows(DatasetImages(path="parquet", data_files=str(data / "ref.parquet"), limit=5, seed=seed,
                                        cache_dir=str(tmp_path)))
    assert rows(0).index == rows(0).index and len(rows(0)) == 5 and rows(0).index != rows(1).index
    assert rows(0).index == sorted(rows(0).index)
    with pytest.raises(UserError, match="no image column 'photo'; its image columns: image"):
        image_rows(DatasetImages(path="parquet", data_files=str(data / "ref.parquet"), image_column="photo",
                                 cache_dir=str(tmp_path)))


def test_a_spec_refuses_two_image_references_and_missing_local_files(data):
    with pytest.raises(UserError, match="not both"):
        parse_spec(spec(data, {"images": str(data / "ref"), "dataset": {"path": "parquet"}}))
    from evalkit.config import check_reference_files

    bad = parse_spec(spec(data, {"dataset": {"path": "parquet", "data_files": str(data / "nope.parquet")}}))
    with pytest.raises(UserError, match="reference.dataset: .*nope.parquet does not exist"):
        check_reference_files(bad.reference)


def stats(capsys, *argv) -> dict:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_fid_stats_from_a_dataset_equal_the_folders(data, tmp_path, capsys):
    stats(capsys, "fid-stats", str(data / "ref"), "-o", str(tmp_path / "folder.npz"))
    info = stats(capsys, "fid-stats", "--dataset", "parquet", "--data-files", str(data / "ref.parquet"),
                 "-o", str(tmp_path / "dataset.npz"))
    assert info["n"] == N_REF and info["source"] == "dataset parquet[train]"
    a, b = np.load(tmp_path / "folder.npz"), np.load(tmp_path / "dataset.npz")
    assert np.array_equal(a["mu"], b["mu"]) and np.array_equal(a["sigma"], b["sigma"])
    assert json.loads(str(b["dataset"]))["data_files"] == [str(data / "ref.parquet")]
    assert main(["fid-stats", str(data / "ref"), "--dataset", "parquet", "-o", str(tmp_path / "x.npz")]) == 2
    assert "exactly one of IMAGES" in capsys.readouterr().err
    if not __import__("torch").cuda.is_available():
        assert main(["fid-stats", str(data / "ref"), "-o", str(tmp_path / "x.npz"), "--device", "cuda"]) == 2
        assert "device 'cuda' is not available" in capsys.readouterr().err


@pytest.mark.slow
def test_fid_stats_from_a_dataset_in_one_sharded_pass(data, tmp_path, capsys):
    """`accelerate launch` two CPU processes (gloo), each extracting half the images."""
    import importlib.util
    from pathlib import Path

    found = importlib.util.spec_from_file_location("launcher", Path(__file__).parents[1] / "runner" / "launcher.py")
    launcher = importlib.util.module_from_spec(found)
    found.loader.exec_module(launcher)  # the scale-out tests' `accelerate launch` of two CPU processes
    launch = launcher.launch
    stats(capsys, "fid-stats", "--dataset", "parquet", "--data-files", str(data / "ref.parquet"),
          "-o", str(tmp_path / "one.npz"))
    env = {"EVALKIT_CACHE": str(tmp_path / "fresh"), "HF_DATASETS_CACHE": str(tmp_path / "dc")}
    proc = launch("-m", "evalkit", "fid-stats", "--dataset", "parquet", "--data-files", str(data / "ref.parquet"),
                  "-o", str(tmp_path / "two.npz"), env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    one, two = np.load(tmp_path / "one.npz"), np.load(tmp_path / "two.npz")
    np.testing.assert_allclose(two["mu"], one["mu"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(two["sigma"], one["sigma"], rtol=1e-4, atol=1e-6)
    assert int(two["n"]) == N_REF and len(list((tmp_path / "fresh" / "features").rglob("chunk-*.npz"))) == 2


@pytest.mark.slow
def test_pytorch_fid_and_clean_fid_npz_files_are_imported(data, tmp_path, capsys):
    from cleanfid.features import build_feature_extractor  # noqa: F401  (clean-fid is installed: its file layout)

    stats(capsys, "fid-stats", str(data / "ref"), "-o", str(tmp_path / "ours.npz"))
    ours = np.load(tmp_path / "ours.npz")
    np.savez_compressed(tmp_path / "clean_fid.npz", mu=ours["mu"], sigma=ours["sigma"])  # what clean-fid writes
    info = stats(capsys, "fid-stats", "--from-npz", str(tmp_path / "clean_fid.npz"), "--resize", "clean",
                 "--source", "clean-fid: procedural 12, mode clean", "-o", str(tmp_path / "imported.npz"))
    assert info["resize"] == "clean" and info["source"].startswith("clean-fid") and len(info["imported_sha256"]) == 64
    imported = np.load(tmp_path / "imported.npz")
    assert str(imported["extractor"]) == "inception-v3-tf2015" and "weights_sha256" not in imported.files
    base = spec(data, {"images": str(data / "ref")})
    via_folder = run_benchmark(parse_spec(base), tmp_path / "a")
    via_import = run_benchmark(parse_spec({**base, "metrics": {"fid": {"bootstrap": 0}},
                                           "reference": {"stats": str(tmp_path / "imported.npz")}}), tmp_path / "b")
    assert values(via_import)["fid"] == pytest.approx(values(via_folder)["fid"], rel=1e-12)  # no resize declared: recorded
    for argv, message in [([], "declare how the statistics were made"),
                          (["--resize", "clean", "--source", "x", "--from-npz", str(tmp_path / "ours.npz")],
                           "already holds evalkit statistics")]:
        args = ["fid-stats", "-o", str(tmp_path / "y.npz"), *argv]
        if "--from-npz" not in argv:
            args += ["--from-npz", str(tmp_path / "clean_fid.npz")]
        assert main(args) == 2 and message in capsys.readouterr().err
