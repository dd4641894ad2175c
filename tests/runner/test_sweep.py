"""Sweeps: expansion, skipping finished runs, a failed run that doesn't stop the rest, the report."""

import pandas as pd
import pytest
import yaml

from evalkit.cli import main
from evalkit.runner.sweep import expand, load_sweep

PROMPTS = "id,text,category\na,A red cube.,Colors\nb,Two dogs.,Counting\n"


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep")
    (root / "p.csv").write_text(PROMPTS)
    (root / "base.yaml").write_text(yaml.safe_dump({
        "name": "base",
        "suite": {"name": "file", "path": str(root / "p.csv")},
        "generator": {"name": "diffusers_pipeline", "model": "builtin:tiny-sd", "batch_size": 4},
        "generation": {"num_inference_steps": 2},
        "reference": {"images": "builtin:procedural"},
        "metrics": {"fid": {"bootstrap": 3}, "clip_score": {"model": "builtin:tiny-clip"}},
    }))
    (root / "sweep.yaml").write_text(yaml.safe_dump({
        "name": "tiny",
        "base": "base.yaml",
        "axes": {"generator.scheduler": ["DDIMScheduler", "NoSuchScheduler"], "generation.guidance_scale": [1.0, 4.0]},
    }, sort_keys=False))
    return root / "sweep.yaml"


def test_expansion_applies_dotted_axes(sweep_file):
    sweep, base = load_sweep(sweep_file)
    runs = expand(sweep, base)
    assert len(runs) == 4
    assert [r.settings for r in runs] == [
        {"generator.scheduler": s, "generation.guidance_scale": g}
        for s in ("DDIMScheduler", "NoSuchScheduler") for g in (1.0, 4.0)
    ]
    assert runs[1].spec.generation.guidance_scale == 4.0
    assert runs[2].spec.generator.options.scheduler == "NoSuchScheduler"
    assert len({r.spec.generation_key() for r in runs}) == 4
    assert [r.label for r in runs] == ["DDIMScheduler · w=1", "DDIMScheduler · w=4", "NoSuchScheduler · w=1",
                                       "NoSuchScheduler · w=4"]


def test_dry_run_lists_and_checks_runs(sweep_file, capsys):
    assert main(["sweep", str(sweep_file), "--dry-run"]) == 1  # two runs would fail: said before any image is made
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4 and "generation.guidance_scale=4.0" in lines[1] and "DDIMScheduler · w=4" in lines[1]
    assert lines[0].startswith("tiny-scheduler_DDIMScheduler-guidance_scale_1.0-")
    assert lines[2].startswith("FAILS (UserError: diffusers_pipeline: 'NoSuchScheduler' is not a diffusers scheduler")


@pytest.fixture(scope="module")
def swept(sweep_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep-out")
    code = main(["sweep", str(sweep_file), "--out", str(out)])
    return code, out / "tiny"


def test_failed_runs_are_recorded_and_the_rest_finish(swept):
    code, sweep_dir = swept
    assert code == 1  # some runs failed
    results = pd.read_parquet(sweep_dir / "results.parquet")
    assert list(results["status"]) == ["ok", "ok", "failed", "failed"]
    assert results["error"].iloc[2].startswith("UserError: diffusers_pipeline: 'NoSuchScheduler' is not a diffusers scheduler")
    assert results["fid"].iloc[:2].notna().all() and results["clip_score"].iloc[:2].notna().all()
    assert results["clip_score/low"].iloc[:2].notna().all() and list(results["label"])[0] == "DDIMScheduler · w=1"
    assert (sweep_dir / "results.csv").read_text().startswith("run_id,")


def test_second_sweep_skips_finished_runs(swept, sweep_file, capsys):
    _, sweep_dir = swept
    before = (sweep_dir / "runs").stat().st_mtime
    main(["sweep", str(sweep_file), "--out", str(sweep_dir.parent)])
    assert "0 run, 2 skipped (finished), 2 failed" in capsys.readouterr().out
    results = pd.read_parquet(sweep_dir / "results.parquet")
    assert list(results["status"]) == ["skipped", "skipped", "failed", "failed"]
    assert results["fid"].iloc[:2].notna().all()
    assert before is not None


def test_sweep_report_has_plots_grid_provenance_and_warnings(swept):
    _, sweep_dir = swept
    html = (sweep_dir / "report.html").read_text()
    assert '<img class="plot" alt="FID vs CLIP score curves"' in html
    assert '<img class="plot" alt="Per-category scores"' in html
    assert "<th>DDIMScheduler · w=4</th>" in html  # runs labelled by their axis values, not 100-character ids
    assert html.count('<img alt="a"') == 2 and html.count('<img alt="b"') == 2  # prompt rows x runs
    assert "<h2>Provenance</h2>" in html and "7ff4a85c" in html and "clean" in html
    assert "biased upward" in html and "RANDOM" in html
    assert "failed: UserError" in html and "NoSuchScheduler · w=1</b> failed" in html
    # same prompts and seeds: the later run's CLIP score against the first's on paired images
    assert "<h2>Paired differences vs DDIMScheduler · w=1</h2>" in html
    assert "<td>DDIMScheduler · w=4</td><td>clip_score</td>" in html and "paired prompt bootstrap" in html
    assert (sweep_dir / "report.md").read_text().startswith("# evalkit sweep")
    assert (sweep_dir / "report-fid-vs-clip.png").read_bytes()[:4] == b"\x89PNG"


def test_report_command_rerenders(swept, capsys):
    _, sweep_dir = swept
    (sweep_dir / "report.html").unlink()
    assert main(["report", str(sweep_dir)]) == 0
    assert (sweep_dir / "report.html").is_file()
    run_dir = next(p for p in (sweep_dir / "runs").iterdir() if (p / "metrics.json").is_file())
    assert main(["report", str(run_dir)]) == 0
    assert main(["report", str(sweep_dir / "nope")]) == 2


def test_run_names_are_sanitised(tmp_path):
    from evalkit.runner.sweep import SweepSpec

    base = {"name": "b", "suite": {"name": "smoke"}, "generator": {"name": "image_folder", "path": str(tmp_path)}}
    sweep = SweepSpec(name="s", base=base, axes={"generator.path": [str(tmp_path)], "seed": [1]})
    (run,) = expand(sweep, base)
    assert run.spec.name.startswith("s-path_") and "/" not in run.spec.name and len(run.spec.name) <= 62
    assert run.label == f"{tmp_path.name} · seed=1"
