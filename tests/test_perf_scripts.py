"""The prepared GPU check (benchmarks/perf/gpu_check.py) runs end to end at tiny sizes on the
CPU, so CI proves the script works before a GPU is ever lent to run it for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PERF = Path(__file__).resolve().parents[1] / "benchmarks" / "perf"


@pytest.mark.slow
def test_gpu_check_runs_tiny_on_cpu(tmp_path):
    out = tmp_path / "check.json"
    proc = subprocess.run([sys.executable, str(PERF / "gpu_check.py"), "--device", "cpu", "--tiny", "--out", str(out)],
                          capture_output=True, text=True, timeout=900, env={**os.environ})
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["inception"]["evalkit_img_s"] > 0 and result["inception"]["torchmetrics_img_s"] > 0
    assert result["sd15"]["same_images"] is True and result["sd15"]["images_per_s_adapter"] > 0
    assert [row["loading"] for row in result["cascade_memory"]] == ["sequential", "resident"]
    assert result["frechet"]["abs_delta"] < 1e-6 * result["frechet"]["numpy_fid"]
