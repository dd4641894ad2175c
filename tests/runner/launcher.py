"""Launching two evalkit processes on this machine with `accelerate launch` (torchrun +
gloo on CPU), and the tiny spec they run, for the scale-out tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import yaml

from evalkit.runner.distributed import threads_per_process

# CPU results depend on the number of threads a reduction is split over (a pixel can
# differ by 1), so one-process references use what each of the two processes uses.
THREADS = threads_per_process(2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`accelerate launch` two CPU processes (gloo over loopback)."""
    cmd = [
        str(Path(sys.executable).parent / "accelerate"), "launch", "--multi_gpu", "--num_processes", "2",
        "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
        "--main_process_port", str(free_port()), *args,
    ]
    full_env = {**os.environ, "ACCELERATE_USE_CPU": "1", "OMP_NUM_THREADS": str(THREADS), **(env or {})}
    return subprocess.run(cmd, env=full_env, capture_output=True, text=True, timeout=300)


def tiny_sd_spec(root: Path, name: str, seed: int, prompts: str, metrics: dict) -> Path:
    """spec.yaml (and its prompts.csv) under root: builtin:tiny-sd, 2 images per prompt in
    batches of 2 (so each process gets several batches and can die between them), 2 steps."""
    (root / "prompts.csv").write_text(prompts)
    path = root / "spec.yaml"
    path.write_text(yaml.safe_dump({
        "name": name, "seed": seed, "images_per_prompt": 2, "suite": {"name": "file", "path": str(root / "prompts.csv")},
        "generator": {"name": "diffusers_pipeline", "model": "builtin:tiny-sd", "batch_size": 2},
        "generation": {"num_inference_steps": 2, "guidance_scale": 3.0},
        "reference": {"images": "builtin:procedural", "resize": "clean"},
        "metrics": metrics,
    }))
    return path
