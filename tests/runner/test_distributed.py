"""Two processes on one run (DESIGN §7): `accelerate launch` (torchrun + gloo on CPU)
makes the same images and numbers as one process, survives a killed process, and stays
in step when run_benchmark is called repeatedly in one process group (a sweep) and a
run fails on one process only.

`accelerate launch --cpu --num_processes 2` starts ONE process unless an MPI hostfile
is configured; `--multi_gpu` goes through torchrun, and evalkit picks gloo when there
is no GPU (here ACCELERATE_USE_CPU=1 makes sure of it). See docs/scale-out.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
import yaml

from evalkit.config import load_spec
from evalkit.runner.distributed import threads_per_process
from evalkit.runner.run import run_benchmark
from evalkit.store import TMP_PREFIX, sha256_file
from launcher import THREADS, launch, tiny_sd_spec  # tests/runner/launcher.py

PROMPTS = (
    "id,text,category\na,A red cube.,Colors\nb,Two dogs.,Counting\n"
    "c,A sign that reads 'hi'.,Text\nd,A blue ball.,Colors\n"
)
NAMES = [f"images/{p}/{i}.png" for p in "abcd" for i in (0, 1)]

DRIVER = """
import json, sys
from evalkit.config import load_spec
from evalkit.errors import UserError
from evalkit.runner import distributed
from evalkit.runner.run import run_benchmark

out, report, *specs = sys.argv[1:]
results = []
for path in specs:
    try:
        s = run_benchmark(load_spec(path), out)
        results.append({"made": s.images_made, "extracted": s.features_extracted, "metrics": s.results.flat(),
                        "run_dir": str(s.run_dir)})
    except UserError as err:
        results.append({"error": str(err)})
with open(f"{report}.rank{distributed.current().rank}.json", "w") as f:
    json.dump(results, f)
"""


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory) -> Path:
    metrics = {"fid": {}, "kid": {"subset_size": 4, "subsets": 10}, "clip_score": {"model": "builtin:tiny-clip"}}
    return tiny_sd_spec(tmp_path_factory.mktemp("dist"), "dist", 5, PROMPTS, metrics)


@contextmanager
def torch_threads(n: int):
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def launch_run(spec_path: Path, out: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return launch("-m", "evalkit", "run", str(spec_path), "--out", str(out), env=env)


def check(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def run_dir(out: Path) -> Path:
    (found,) = out.iterdir()
    return found


def images(run: Path) -> dict[str, bytes]:
    return {p.relative_to(run).as_posix(): p.read_bytes() for p in sorted((run / "images").rglob("*")) if p.is_file()}


def journal_rows(run: Path) -> list[dict]:
    rows = []
    for path in sorted(run.glob("samples.rank*.jsonl")):
        for line in path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                pass  # a line torn by the kill
    return rows


@pytest.fixture(scope="module")
def single(spec_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("one")
    with torch_threads(THREADS):
        summary = run_benchmark(load_spec(spec_path), out)
    return run_dir(out), summary


@pytest.fixture(scope="module")
def two(spec_path, single, tmp_path_factory):
    """One launched group calls run_benchmark three times, like a sweep: the spec, a
    spec whose run fails on process 1 only (its batch has no image), the spec again."""
    one_dir, _ = single
    root = tmp_path_factory.mktemp("two")
    folder = root / "elsewhere"
    shutil.copytree(one_dir / "images", folder)
    shutil.rmtree(folder / "d")  # batch 3 (prompt d) belongs to process 1
    broken = root / "broken.yaml"
    broken.write_text(yaml.safe_dump({
        **yaml.safe_load(spec_path.read_text()),
        "name": "broken", "generator": {"name": "image_folder", "path": str(folder), "batch_size": 2},
    }))
    (root / "driver.py").write_text(DRIVER)
    out, report = root / "runs", root / "report"
    check(launch(str(root / "driver.py"), str(out), str(report), str(spec_path), str(broken), str(spec_path)))
    per_rank = [json.loads(Path(f"{report}.rank{r}.json").read_text()) for r in (0, 1)]
    return Path(per_rank[0][0]["run_dir"]), per_rank


def flat_metrics(run: Path) -> dict:
    from evalkit.runner.run_dir import load_results

    return load_results(run)[0].flat()


def test_two_processes_give_the_same_images_and_numbers(single, two):
    one_dir, one = single
    two_dir, per_rank = two
    assert per_rank[0][0]["made"] == 8 and per_rank[0][0]["extracted"] == 16
    assert list(images(two_dir)) == NAMES
    assert images(two_dir) == images(one_dir)
    assert not list(two_dir.rglob(f"{TMP_PREFIX}*"))
    # Each process journaled its own batches; together every image exactly once.
    assert sorted(p.name for p in two_dir.glob("samples.rank*.jsonl")) == ["samples.rank0.jsonl", "samples.rank1.jsonl"]
    journaled = sorted((r["prompt_id"], r["index"]) for r in journal_rows(two_dir))
    assert journaled == [(p, i) for p in "abcd" for i in (0, 1)]
    a, b = pd.read_parquet(one_dir / "samples.parquet"), pd.read_parquet(two_dir / "samples.parquet")
    pd.testing.assert_frame_equal(a.drop(columns="seconds"), b.drop(columns="seconds"))
    assert two_dir.name == one_dir.name  # the same run key
    metrics = flat_metrics(two_dir)
    assert metrics == pytest.approx(one.results.flat(), rel=1e-6, abs=1e-9)
    assert json.loads((two_dir / "metrics.json").read_text())["n_images"] == 8 and set(metrics) == set(one.results.flat())
    for name in ("per_sample.parquet", "report.html", "report.md", "spec.yaml"):
        assert (two_dir / name).is_file(), name
    assert list((two_dir / "features" / "inception-v3-tf2015-clean").glob("chunk-*.npz"))


def test_a_killed_process_then_a_relaunch_completes_the_run(spec_path, single, tmp_path):
    one_dir, one = single
    out = tmp_path / "runs"
    crashed = launch_run(spec_path, out, env={"EVALKIT_TEST_EXIT_AFTER_BATCHES": "1:1"})
    assert crashed.returncode != 0
    run = run_dir(out)
    partial = images(run)
    assert 2 <= len(partial) < 8 and all(partial[k] == images(one_dir)[k] for k in partial)
    assert not (run / "metrics.json").exists()

    check(launch_run(spec_path, out))
    assert images(run) == images(one_dir)  # nothing missing, nothing extra, same bytes
    assert not list(run.rglob(f"{TMP_PREFIX}*"))
    rows = journal_rows(run)
    keys = [(r["prompt_id"], r["index"]) for r in rows]
    assert len(keys) == len(set(keys))  # no image made twice
    assert {k: r["sha256"] for k, r in zip(keys, rows)} == {
        k: sha256_file(run / f"images/{k[0]}/{k[1]}.png") for k in keys
    }
    samples = pd.read_parquet(run / "samples.parquet")
    assert len(samples) == 8 and all(sha256_file(run / p) == s for p, s in zip(samples["path"], samples["sha256"]))
    assert flat_metrics(run) == pytest.approx(one.results.flat(), rel=1e-6, abs=1e-9)


def test_repeated_runs_in_one_process_group_stay_in_step(single, two):
    _, one = single
    _, per_rank = two
    assert per_rank[0] == per_rank[1]  # every process saw the same results and the same failure
    first, failed, again = per_rank[0]
    assert "has no image for prompt 'd'" in failed["error"]
    assert again["made"] == 0 and again["extracted"] == 0  # finished run: nothing redone
    assert again["metrics"] == first["metrics"] == pytest.approx(one.results.flat(), rel=1e-6, abs=1e-9)


def test_threads_per_process_share_the_cores(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # what launchers export
    assert threads_per_process(8) == 2 and threads_per_process(32) == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "4")  # the user's choice
    assert threads_per_process(8) == 4


def test_single_process_runs_every_step_here():
    from evalkit.runner.distributed import SingleProcess, current

    procs = SingleProcess()
    assert procs.run(lambda: 3) == 3 and procs.run(lambda: 3, gather=True) == [3]
    assert procs.run(lambda: 1 / 0, here=False) is None
    assert isinstance(current(), SingleProcess)  # no launcher, no process group
