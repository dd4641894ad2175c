"""fid-stats files: round trip, provenance checks, foreign (pytorch-fid / clean-fid) files."""

import json

import numpy as np
import pytest

from evalkit.cli import main
from evalkit.builtin.procedural import draw as _draw_procedural


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("stats")
    for name, seed0 in (("gen", 500), ("ref", 0)):
        (root / name).mkdir()
        for i in range(12):
            _draw_procedural(seed0 + i, 64).save(root / name / f"{i}.png")
    return root


def run_json(capsys, *argv):
    code = main([*argv, "--json"])
    out = capsys.readouterr()
    return code, (json.loads(out.out) if code == 0 else out.err)


def value(result: dict, key: str, part: str = "value"):
    """A headline value (or its low/high/std/n) from `--json` output (metrics.json's schema)."""
    return result["metrics"][key]["values"][key][part]


def test_stats_round_trip_gives_the_same_fid_as_the_folder(folders, capsys):
    code, built = run_json(capsys, "fid-stats", str(folders / "ref"), "-o", str(folders / "ref.npz"), "--resize", "legacy-tf")
    assert code == 0 and built["n"] == 12 and built["resize"] == "legacy-tf"
    data = np.load(folders / "ref.npz")
    assert data["mu"].shape == (2048,) and data["sigma"].shape == (2048, 2048)
    assert str(data["weights_sha256"]).startswith("7ff4a85c") and str(data["extractor"]) == "inception-v3-tf2015"
    _, via_folder = run_json(capsys, "score", "--images", str(folders / "gen"), "--reference", str(folders / "ref"),
                             "--resize", "legacy-tf")
    _, via_stats = run_json(capsys, "score", "--images", str(folders / "gen"), "--reference", str(folders / "ref.npz"),
                            "--resize", "legacy-tf")
    assert value(via_stats, "fid") == pytest.approx(value(via_folder, "fid"), rel=1e-12)
    assert via_stats["metrics"]["fid"]["provenance"]["files_sha256"] == \
        via_folder["metrics"]["fid"]["provenance"]["reference_files_sha256"]


def test_stats_of_another_resize_mode_are_refused(folders, capsys):
    main(["fid-stats", str(folders / "ref"), "-o", str(folders / "clean.npz")])
    capsys.readouterr()
    code, err = run_json(capsys, "score", "--images", str(folders / "gen"), "--reference", str(folders / "clean.npz"),
                         "--resize", "legacy-tf")
    assert code == 2
    assert "made with resize 'clean' but this run uses 'legacy-tf'" in err and err.count("\n") == 1


def test_stats_of_another_extractor_are_refused(folders, capsys):
    data = dict(np.load(folders / "clean.npz"))
    data["extractor"] = np.asarray("clip-vit-b-32")
    np.savez(folders / "other.npz", **data)
    code, err = run_json(capsys, "score", "--images", str(folders / "gen"), "--reference", str(folders / "other.npz"))
    assert code == 2 and "made with extractor 'clip-vit-b-32'" in err


def test_foreign_stats_load_only_with_a_declared_mode(folders, capsys):
    data = np.load(folders / "clean.npz")
    np.savez(folders / "pytorch_fid.npz", mu=data["mu"], sigma=data["sigma"])  # what pytorch-fid writes
    code, err = run_json(capsys, "score", "--images", str(folders / "gen"), "--reference", str(folders / "pytorch_fid.npz"))
    assert code == 2 and "do not record their resize mode" in err
    code, declared = run_json(capsys, "score", "--images", str(folders / "gen"), "--reference",
                              str(folders / "pytorch_fid.npz"), "--resize", "clean")
    _, own = run_json(capsys, "score", "--images", str(folders / "gen"), "--reference", str(folders / "clean.npz"))
    assert code == 0 and value(declared, "fid") == pytest.approx(value(own, "fid"), rel=1e-12)


def test_not_an_npz_is_a_clear_error(folders, capsys):
    (folders / "junk.npz").write_bytes(b"not a zip")
    code, err = run_json(capsys, "score", "--images", str(folders / "gen"), "--reference", str(folders / "junk.npz"))
    assert code == 2 and "is not a reference statistics .npz" in err


def test_kid_subset_size_defaults_to_the_number_of_images(folders, capsys):
    code, result = run_json(capsys, "score", "--images", str(folders / "gen"), "--reference", str(folders / "ref"),
                            "--metrics", "fid,kid")  # min(1000, n) as clean-fid does, with a warning
    assert code == 0 and result["metrics"]["kid"]["provenance"]["kid_subset_size"] == 12
    assert any("KID subsets of 12 images" in w for w in result["warnings"])
    code, explicit = run_json(capsys, "score", "--images", str(folders / "gen"), "--reference", str(folders / "ref"),
                              "--metrics", "kid", "--kid-subset-size", "12")
    assert value(explicit, "kid") == value(result, "kid")
    # asked for: no "fewer than" note, but still the sample-size advice (12-of-12 subsets repeat the same images)
    assert [w for w in explicit["warnings"] if "KID" in w] == [
        "kid: KID subsets of 12 out of 12 samples share 100% of their samples on average, so the std over subsets "
        "understates the uncertainty; use subset_size <= 6"]
    code, err = run_json(capsys, "score", "--images", str(folders / "gen"), "--reference", str(folders / "ref"),
                         "--metrics", "fid,kid", "--kid-subset-size", "1000")
    assert code == 2
    assert "KID subset size 1000 is larger than the number of samples (12 generated, 12 reference)" in err
    code, result = run_json(capsys, "score", "--images", str(folders / "gen"), "--reference", str(folders / "ref"),
                            "--metrics", "fid,kid", "--set", "kid.subset_size=6", "--set", "kid.subsets=5")
    assert code == 0 and value(result, "kid", "std") >= 0 and result["metrics"]["kid"]["provenance"]["kid_subsets"] == 5


def test_clip_score_cli(folders, tmp_path, capsys):
    images = tmp_path / "imgs"
    for pid in ("a", "b"):
        (images / pid).mkdir(parents=True)
        for i in range(2):
            _draw_procedural(hash(pid) % 100 + i, 64).save(images / pid / f"{i}.png")
    prompts = tmp_path / "prompts.csv"
    prompts.write_text("id,text,category\na,A red cube.,Colors\nb,Two dogs.,Counting\n")
    code, result = run_json(capsys, "clip-score", "--images", str(images), "--prompts", str(prompts),
                            "--clip", "builtin:tiny-clip")
    assert code == 0 and value(result, "clip_score", "n") == 4
    assert value(result, "clip_score", "low") <= value(result, "clip_score") <= value(result, "clip_score", "high")
    clip = result["metrics"]["clip_score"]
    assert "RANDOM" in clip["provenance"]["clip_weights"]
    assert set(clip["categories"]["clip_score"]) == {"Colors", "Counting"}  # per-category CIs, as in a run
    colors = clip["categories"]["clip_score"]["Colors"]
    assert colors["low"] <= colors["value"] <= colors["high"] and colors["n"] == 2


@pytest.mark.parametrize("broken, message", [
    (lambda mu, s: (mu, -np.eye(len(mu))), "not positive semi-definite"),
    (lambda mu, s: (mu, s + np.triu(np.ones_like(s))), "not symmetric"),
    (lambda mu, s: (np.where(np.arange(len(mu)) == 3, np.inf, mu), s), "mu has 1 non-finite value"),
    (lambda mu, s: (mu, np.where(np.eye(len(mu), dtype=bool), np.nan, s)), "sigma has 2048 non-finite values"),
    (lambda mu, s: (mu, s[:, :3]), "sigma has shape (2048, 3), expected (2048, 2048)"),
])
def test_broken_reference_statistics_are_refused_not_scored(folders, capsys, broken, message):
    """sigma = -I once gave FID 0.0, an asymmetric sigma 2357.7, inf in mu `inf`, NaN a traceback."""
    good = folders / "good.npz"
    if not good.is_file():
        assert main(["fid-stats", str(folders / "ref"), "-o", str(good)]) == 0
    capsys.readouterr()
    data = dict(np.load(good))
    data["mu"], data["sigma"] = broken(data["mu"], data["sigma"])
    np.savez(folders / "broken.npz", **data)
    code, err = run_json(capsys, "score", "--images", str(folders / "gen"), "--reference", str(folders / "broken.npz"))
    assert code == 2 and message in err and "broken.npz" in err and err.count("\n") == 1, err
