"""`evalkit compare` on two run directories that share prompt ids and seeds: the paired
test on a constructed regression the unpaired CI-overlap rule passes, the fallback to the
unpaired rule when the runs do not pair, and real run directories (features, per-sample
scores and the reference found again from what the runs recorded)."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from evalkit.cli import main
from evalkit.feature_cache import FeatureCache
from evalkit.metrics.clip_score import mean_with_ci
from evalkit.metrics.fid import fid_estimate
from evalkit.metrics.functional.frechet_ci import CIPlan, GaussianStats
from evalkit.reports import paired
from evalkit.results import MetricResult, RunResults
from evalkit.runner.run_dir import load_results

PROMPTS, SEEDS, DIM = 60, 2, 16


def world(seed=0):
    """Prompt content and seed noise shared by both runs; model noise of their own."""
    rng = np.random.default_rng(seed)
    content = rng.normal(size=(PROMPTS, 1, DIM)) * 1.0
    seed_noise = rng.normal(size=(PROMPTS, SEEDS, DIM)) * 0.5
    score_content, score_seed = rng.normal(size=(PROMPTS, 1)) * 3.0, rng.normal(size=(PROMPTS, SEEDS)) * 0.5
    ref = GaussianStats.of(rng.normal(size=(5000, DIM)) * np.sqrt(1.25))
    return rng, content + seed_noise, score_content + score_seed, ref


def write_run(folder, feats, scores, ref_file, seeds=range(SEEDS)):
    """A run directory as evalkit writes it: samples, per-sample scores, feature chunks, metrics."""
    rows = [{"prompt_id": f"p{p:02d}", "index": i, "text": f"prompt {p}", "category": "c", "seed": 1000 * s + p,
             "path": f"images/p{p:02d}/{i}.png", "sha256": f"{folder.name}-{p}-{i}", "generator": "{}", "seconds": 0.0}
            for p in range(PROMPTS) for i, s in enumerate(seeds)]
    samples = pd.DataFrame(rows)
    folder.mkdir(parents=True)
    samples.to_parquet(folder / "samples.parquet", index=False)
    x, y = feats.reshape(-1, DIM).astype(np.float32), scores.reshape(-1)
    FeatureCache(folder / "features" / "toy-key").commit(samples["sha256"].tolist(), x)
    per_sample = samples[["prompt_id", "index", "category", "text"]].assign(score=y)
    per_sample.to_parquet(folder / "per_sample.parquet", index=False)
    ref = np.load(ref_file)
    fid = fid_estimate(x, GaussianStats(ref["mu"], ref["sigma"], int(ref["n"])), CIPlan(), samples["prompt_id"].to_numpy())
    prov = {"extractor": "toy", "features_key": "toy-key", "reference": str(ref_file), "fid_ci": "jackknife",
            "fid_bootstrap": 20}
    results = RunResults(folder.name, len(samples), PROMPTS, {
        "fid": MetricResult("fid", False, {"fid": fid}, provenance=prov),
        "score": MetricResult("score", True, {"score": mean_with_ci(y, samples["prompt_id"])})})
    (folder / "metrics.json").write_text(json.dumps(results.to_json()))
    return folder


@pytest.fixture
def runs(tmp_path):
    rng, feats, scores, ref = world()
    ref_file = tmp_path / "ref.npz"
    np.savez(ref_file, mu=ref.mu, sigma=ref.sigma, n=ref.n)

    def model(shift, score_shift):
        return feats + rng.normal(size=feats.shape) * 0.2 + shift, scores + rng.normal(size=scores.shape) * 0.3 + score_shift

    base = write_run(tmp_path / "base", *model(0.0, 0.0), ref_file)
    worse = write_run(tmp_path / "worse", *model(0.25, -0.4), ref_file)
    other_seeds = write_run(tmp_path / "seeds", *model(0.25, -0.4), ref_file, seeds=range(SEEDS, 2 * SEEDS))
    return base, worse, other_seeds


def test_paired_gate_fails_a_regression_the_unpaired_rule_passes(runs, capsys):
    base, worse, _ = runs
    alone = base.parent / "alone"  # the metrics.json files without their run directories
    alone.mkdir()
    for run in (base, worse):
        (alone / f"{run.name}.json").write_text((run / "metrics.json").read_text())
    assert main(["compare", str(alone / "base.json"), str(alone / "worse.json"), "--tolerance", "fid=0"]) == 0
    unpaired = capsys.readouterr().out
    assert unpaired.count("within noise") == 2 and "unpaired (CI overlap): a metrics.json without its run" in unpaired
    assert main(["compare", str(base), str(worse), "--tolerance", "fid=0", "--json", str(base.parent / "v.json")]) == 1
    out = capsys.readouterr().out
    assert "paired tests for fid, score (the runs share prompt ids and seeds)" in out
    rows = {r["metric"]: r for r in json.loads((base.parent / "v.json").read_text())["rows"]}
    assert rows["fid"]["verdict"] == rows["score"]["verdict"] == "regressed"
    assert rows["fid"]["p_value"] < 0.05 and rows["fid"]["low"] > 0  # the whole CI of FID(worse) - FID(base) is above 0
    assert rows["score"]["high"] < 0 and rows["score"]["test"].startswith("paired prompt bootstrap")
    b, c = load_results(base)[0], load_results(worse)[0]
    assert rows["fid"]["delta"] == pytest.approx(c.metrics["fid"].values["fid"].value - b.metrics["fid"].values["fid"].value,
                                                 abs=1e-8)


def test_runs_that_do_not_share_seeds_fall_back_to_the_unpaired_rule(runs, capsys):
    base, _, other_seeds = runs
    assert main(["compare", str(base), str(other_seeds), "--tolerance", "fid=0"]) == 0
    out = capsys.readouterr().out
    assert "unpaired (CI overlap): the runs do not share prompt ids, image indices and seeds" in out
    assert "unpaired: CI overlap" in out and "within noise" in out


def test_a_run_compared_with_itself_is_unchanged_with_p_1(runs):
    base = runs[0]
    results = load_results(base)[0]
    values = paired.paired_values(results, results, paired.pair_runs(base, base))
    assert values["fid"].delta == pytest.approx(0, abs=1e-9) and values["score"].delta == 0
    assert values["score"].p_value == pytest.approx(1.0)


@pytest.mark.slow
def test_real_run_directories_pair(tmp_path, capsys):
    """Two evalkit runs (image_folder generator) of the same prompts and seeds: compare finds
    both runs' features, per-image scores and the reference's cached features."""
    from evalkit.builtin.procedural import draw
    from evalkit.suites.smoke import Smoke

    ids = [p.id for p in Smoke.create().prompts()]
    for name, offset in (("a", 0), ("b", 500)):
        for k, pid in enumerate(ids):
            (tmp_path / name / pid).mkdir(parents=True)
            for i in range(2):
                draw(offset + 2 * k + i, 64).save(tmp_path / name / pid / f"{i}.png")
    spec = {"name": "pair", "images_per_prompt": 2, "suite": {"name": "smoke"},
            "reference": {"images": "builtin:procedural"},
            "metrics": {"fid": {"bootstrap": 5}, "fd": {"model": "builtin:tiny-dinov2", "bootstrap": 5},
                        "clip_score": {"model": "builtin:tiny-clip"}}}
    for name in ("a", "b"):
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(
            {**spec, "generator": {"name": "image_folder", "path": str(tmp_path / name)}}))
        assert main(["run", str(tmp_path / f"{name}.yaml"), "--out", str(tmp_path / "runs")]) == 0
    run_a, run_b = sorted((tmp_path / "runs").iterdir())
    capsys.readouterr()
    main(["compare", str(run_a), str(run_b)])
    out = capsys.readouterr().out
    assert "paired tests for clip_score, fd, fid" in out and out.count("p = ") == 3  # yaml.safe_dump sorted the metrics
