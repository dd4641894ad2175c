"""Peak memory of one generate() call: process RSS on Linux, allocated memory on CUDA.

Meant to run in a fresh child process, so nothing else's memory is counted:

    python -m evalkit.generators.peak_memory '{"name": "imagen_cascade", "model": "DIR", "device": "cpu"}' \\
        --loading sequential resident [--images 2] [--steps 1]

prints one JSON line per loading mode: peak minus the RSS just before the call (MiB),
and torch.cuda.max_memory_allocated when the generator runs on CUDA. An unmeasured
sequential run comes first (one-time costs), and before each mode the kernel's peak-RSS
mark is reset (/proc/self/clear_refs), so each mode has its own peak.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

MIB = 1 << 20


def _status_kib(field: str) -> int:
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M).group(1))


def reset_peak_rss() -> bool:
    """Reset the kernel's high-water mark of this process's RSS (Linux >= 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def measure(make_generator, jobs, config) -> dict:
    """Build a generator, run one batch, and report its peak memory above the starting point."""
    import torch

    from evalkit.generators.cascade.residency import free_memory

    free_memory()
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        cuda_base = torch.cuda.memory_allocated()
    reset_peak_rss()
    base = _status_kib("VmRSS")
    generator = make_generator()
    generator.generate(jobs, config)
    result = {"rss_peak_mib": round((_status_kib("VmHWM") - base) / 1024, 1), "rss_base_mib": round(base / 1024, 1)}
    if cuda:
        torch.cuda.synchronize()
        result["cuda_peak_mib"] = round((torch.cuda.max_memory_allocated() - cuda_base) / MIB, 1)
    del generator
    free_memory()
    return result


def main(argv: list[str] | None = None) -> int:
    import torch

    from evalkit import registry
    from evalkit.types import GenerationConfig, ImageJob, Prompt

    parser = argparse.ArgumentParser(prog="python -m evalkit.generators.peak_memory")
    parser.add_argument("generator", help='JSON: {"name": ..., options...}')
    parser.add_argument("--loading", nargs="+", default=["sequential", "resident"])
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--guidance", type=float, default=1.0)
    parser.add_argument("--no-warmup", dest="warmup", action="store_false", help="skip the unmeasured first run")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    options = json.loads(args.generator)
    cls = registry.GENERATORS.load(options.pop("name"))
    jobs = [ImageJob(Prompt(f"p{i}", f"a photo of object number {i}"), 0, i) for i in range(args.images)]
    config = GenerationConfig(num_inference_steps=args.steps, guidance_scale=args.guidance)
    if args.warmup:  # first-call costs (lazy imports, kernel caches) would otherwise land on the first mode
        measure(lambda: cls.create(**{**options, "loading": "sequential", "batch_size": args.images}), jobs, config)
    for mode in args.loading:
        result = measure(lambda: cls.create(**{**options, "loading": mode, "batch_size": args.images}), jobs, config)
        print(json.dumps({"loading": mode, **result}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
