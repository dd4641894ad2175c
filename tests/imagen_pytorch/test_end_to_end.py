"""`evalkit run` and `evalkit sweep` on the tiny imagen-pytorch cascade, as a user runs them:
FID / KID / CLIP score against the procedural reference, byte-identical images after a
kill -9 mid-generation and a re-run, and a 2-encoder x 2-guidance sweep with its report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

pytestmark = pytest.mark.slow

PROMPTS = ("id,text,category\n"
           "cube,A red cube on a table.,Colors\ndogs,Two dogs on a sofa.,Counting\nsign,A sign that reads hello.,Text\n"
           "cat,A cat under a chair.,Positional\nlamp,A green lamp.,Colors\nbirds,Three birds.,Counting\n")
N = 6


def spec(tiny, prompts: Path, n: int, batch_size: int) -> dict:
    return {
        "name": "tiny-imagen-pytorch", "seed": 0, "images_per_prompt": 1,
        "suite": {"name": "file", "path": str(prompts), "limit": n},
        "generator": {"name": "imagen_pytorch", "model": str(tiny.checkpoint), "batch_size": batch_size,
                      "loading": "resident",
                      "stages": [{"steps": 2, "prompt": "A photo of {prompt}"},
                                 {"steps": 1, "guidance": 2.0, "lowres_sample_noise_level": 0.1}]},
        "generation": {"num_inference_steps": 2, "guidance_scale": 3.0},
        "reference": {"images": "builtin:procedural", "resize": "clean"},
        "metrics": {"fid": {"bootstrap": 0}, "kid": {"subset_size": n, "subsets": 10},
                    "clip_score": {"model": "builtin:tiny-clip"}},
    }


@pytest.fixture(scope="module")
def spec_file(tiny, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("imagen-pytorch-e2e")
    (root / "prompts.csv").write_text(PROMPTS)
    (root / "spec.yaml").write_text(yaml.safe_dump(spec(tiny, root / "prompts.csv", N, 2), sort_keys=False))
    return root / "spec.yaml"


def evalkit(*args: str, **kwargs):
    return [sys.executable, "-m", "evalkit", *args], {"env": dict(os.environ), "text": True, **kwargs}


def run(*args: str) -> subprocess.CompletedProcess:
    cmd, kw = evalkit(*args, capture_output=True, timeout=600)
    proc = subprocess.run(cmd, **kw)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def pngs(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix().split("/", 1)[1]: p.read_bytes()
            for p in sorted(out.glob("*/images/*/*.png")) if not p.name.startswith(".")}


@pytest.fixture(scope="module")
def first(spec_file, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("first")
    run("run", str(spec_file), "--out", str(out))
    return out


def test_a_run_scores_the_trained_cascade(first):
    (run_dir,) = first.iterdir()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert set(metrics["metrics"]) == {"fid", "kid", "clip_score"}
    assert metrics["metrics"]["fid"]["values"]["fid"]["value"] > 0
    samples = pd.read_parquet(run_dir / "samples.parquet")
    assert len(samples) == N and samples["sha256"].nunique() == N
    generator = json.loads(samples["generator"][0])
    assert generator["generator"] == "imagen_pytorch" and generator["stages"][1]["lowres_sample_noise_level"] == 0.1
    assert (run_dir / "report.html").is_file()


def test_a_run_killed_mid_generation_resumes_to_the_same_bytes(spec_file, first, tmp_path):
    cmd, kw = evalkit("run", str(spec_file), "--out", str(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    proc = subprocess.Popen(cmd, **kw)
    deadline = time.monotonic() + 300
    while not pngs(tmp_path) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    made_before = len(pngs(tmp_path))
    assert proc.returncode == -signal.SIGKILL and 1 <= made_before < N, proc.stderr.read()[-2000:]
    resumed = run("run", str(spec_file), "--out", str(tmp_path))
    assert f"{N - made_before} of {N} images generated" in resumed.stdout
    assert pngs(tmp_path) == pngs(first)  # made by two processes, byte for byte those of the first run


def test_an_encoder_by_guidance_sweep_runs_and_reports(spec_file, tiny, tmp_path):
    from evalkit.cli import main

    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(yaml.safe_dump({
        "name": "tiny-encoders", "base": spec(tiny, spec_file.parent / "prompts.csv", 4, 4),
        "axes": {"generator.text_encoder": [str(tiny.t5), str(tiny.bert)], "generation.guidance_scale": [1.0, 4.0]},
    }, sort_keys=False))
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "out")]) == 0
    sweep_dir = tmp_path / "out" / "tiny-encoders"
    results = pd.read_csv(sweep_dir / "results.csv")
    assert list(results["status"]) == ["ok"] * 4
    assert list(results["label"]) == ["t5 · w=1", "t5 · w=4", "bert · w=1", "bert · w=4"]
    assert results["fid"].notna().all() and results["clip_score"].notna().all()
    assert results["fid"].nunique() == 4  # each encoder and guidance makes other images
    html = (sweep_dir / "report.html").read_text()
    assert "<h2>FID vs CLIP score</h2>" in html and html.count("<img") >= 4
