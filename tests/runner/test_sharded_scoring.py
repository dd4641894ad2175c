"""`evalkit score`, `clip-score` and `fid-stats` under `accelerate launch` (two CPU processes,
gloo) give the numbers one process gives; features are committed chunk by chunk, so a
kill -9 mid-extraction loses at most one chunk and the re-run extracts only the rest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from evalkit.builtin.procedural import draw
from launcher import THREADS, launch  # tests/runner/launcher.py


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("shard")
    for name, seed0, n in (("gen", 300, 14), ("ref", 0, 16)):
        for i in range(n):
            pid = f"p{i % 7}"
            (root / name / pid).mkdir(parents=True, exist_ok=True)
            draw(seed0 + i, 64).save(root / name / pid / f"{i // 7}.png")
    (root / "prompts.csv").write_text("id,text,category\n" + "".join(f"p{i},prompt {i},c{i % 2}\n" for i in range(7)))
    return root


def single(args: list[str], cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "EVALKIT_CACHE": str(cache), "OMP_NUM_THREADS": str(THREADS)}
    return subprocess.run([sys.executable, "-m", "evalkit", *args], capture_output=True, text=True, env=env, timeout=300)


def values(stdout: str) -> dict:
    doc = json.loads(stdout)
    return {k: v for m in doc["metrics"].values() for k, v in m["values"].items()} | {
        f"{k}/{c}": e for m in doc["metrics"].values() for k, cats in m["categories"].items() for c, e in cats.items()}


@pytest.mark.slow
def test_score_clip_score_and_fid_stats_shard_to_the_same_numbers(folders, tmp_path):
    score = ["score", "--images", str(folders / "gen"), "--reference", str(folders / "ref"), "--metrics", "fid,kid,clip_score",
             "--prompts", str(folders / "prompts.csv"), "--set", "kid.subset_size=8", "--set", "clip_score.model=builtin:tiny-clip",
             "--json"]
    clip = ["clip-score", "--images", str(folders / "gen"), "--prompts", str(folders / "prompts.csv"), "--clip",
            "builtin:tiny-clip", "--json"]
    stats = ["fid-stats", str(folders / "ref"), "--json"]
    one = [single(score, tmp_path / "c1"), single(clip, tmp_path / "c1"),
           single(stats + ["-o", str(tmp_path / "one.npz")], tmp_path / "c1")]
    env = {"EVALKIT_CACHE": str(tmp_path / "c2")}
    two = [launch("-m", "evalkit", *score, env=env), launch("-m", "evalkit", *clip, env=env),
           launch("-m", "evalkit", *stats, "-o", str(tmp_path / "two.npz"), env=env)]
    for proc in one + two:
        assert proc.returncode == 0, proc.stderr[-2000:]
    for a, b in zip(one[:2], two[:2]):
        ours, theirs = values(a.stdout), values(b.stdout)
        assert set(ours) == set(theirs) and len(ours) >= 3
        for key in ours:
            # batches differ between one and two processes: features agree to float32 round-off
            assert theirs[key]["value"] == pytest.approx(ours[key]["value"], rel=1e-5, abs=1e-7), key
    assert json.loads(two[0].stdout)["features_extracted"] == 14 + 14  # Inception + CLIP, each image once
    a, b = np.load(tmp_path / "one.npz"), np.load(tmp_path / "two.npz")
    np.testing.assert_allclose(b["mu"], a["mu"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b["sigma"], a["sigma"], rtol=1e-4, atol=1e-6)
    assert int(b["n"]) == int(a["n"]) == 16


@pytest.mark.slow
def test_a_kill_mid_extraction_loses_at_most_one_chunk(tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(48):
        draw(1000 + i, 64).save(folder / f"{i:03d}.png")
    cache = tmp_path / "cache"
    env = {**os.environ, "EVALKIT_CACHE": str(cache), "EVALKIT_FEATURE_CHUNK": "4"}
    cmd = [sys.executable, "-m", "evalkit", "score", "--images", str(folder), "--reference", "builtin:procedural",
           "--metrics", "fid", "--json"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    chunks = cache / "features" / "inception-v3-tf2015-clean"
    deadline = time.monotonic() + 240
    while len(list(chunks.glob("chunk-*.npz"))) < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    committed = len(list(chunks.glob("chunk-*.npz")))
    assert 3 <= committed < 12, committed  # killed mid-way, with whole chunks on disk
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    extracted = json.loads(again.stdout)["features_extracted"]
    assert extracted <= 48 - 4 * committed + 4  # at most the chunk in flight was lost
    assert not list(chunks.glob(".tmp-*"))  # the killed writer's half chunk was cleaned up
