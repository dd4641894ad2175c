"""Sequential loading frees each part: peak memory of a cascade is its largest stage, not the sum.

A child process runs the same batch with `loading: sequential` and `resident` on a cascade
of three ~94 MiB stages (random weights, 8-32 px, so sampling is cheap) and reports each
mode's peak RSS above its starting point (the kernel's high-water mark, reset per mode).
The same comparison in GPU memory is in the prepared GPU check (benchmarks/perf/gpu_check.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evalkit.generators.cascade.build import TINY_ENCODERS, build_cascade

MIB = 1 << 20
WIDE = {"cross_attention_dim": 32, "attention_head_dim": 8, "layers_per_block": 1, "block_out_channels": [160, 320],
        "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"], "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"]}
ARCH = {"text_encoder": {"type": "bert", "max_length": 32, "config": TINY_ENCODERS["bert"]},
        "stages": [{"resolution": r, "unet": WIDE} for r in (8, 16, 32)]}


@pytest.fixture(scope="module")
def heavy_cascade(tmp_path_factory) -> Path:
    return build_cascade(tmp_path_factory.mktemp("heavy") / "cascade", ARCH)


def peaks(model: Path, device: str) -> dict[str, dict]:
    options = json.dumps({"name": "imagen_cascade", "model": str(model), "device": device})
    out = subprocess.run(
        [sys.executable, "-m", "evalkit.generators.peak_memory", options, "--threads", "1", "--images", "2"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    return {row["loading"]: row for row in rows}


def stage_mib(model: Path) -> float:
    return max(f.stat().st_size for f in model.glob("stage_*/unet/*.safetensors")) / MIB


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc peak-RSS reset")
def test_sequential_peak_rss_is_one_stage_not_the_sum(heavy_cascade):
    s = stage_mib(heavy_cascade)  # ~94 MiB of float32 weights per stage
    result = peaks(heavy_cascade, "cpu")
    seq, res = result["sequential"]["rss_peak_mib"], result["resident"]["rss_peak_mib"]
    assert res > 2.5 * s, result  # all three stages held at once
    assert seq < 2.0 * s, result  # one stage (+ activations and loading buffers) at a time
    assert res - seq > 1.5 * s, result
