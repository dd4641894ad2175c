"""kNN manifold metrics against their reference implementations, side by side in one
process on the same features: precision/recall (k = 3) vs torch-fidelity 0.4 `prc`,
density/coverage (k = 5) vs the `prdc` package.

    .venv/bin/python benchmarks/perf/knn_metrics_vs_peers.py [--n 10000] [--dim 2048]

The peers get float32 features (what extractors produce; torch.cdist then works in
float32, scikit-learn upcasts to float64 in chunks); evalkit computes in float64. Peak
memory of evalkit's calls is measured with tracemalloc (numpy allocations only; the
peers allocate through torch / joblib, which tracemalloc does not see). On a shared
2-core VM timings wander: each is the best of --repeat runs.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tracemalloc

import numpy as np
import torch

from evalkit.metrics.functional.knn import density_coverage, knn_metrics, precision_recall
from metrics_vs_peers import timed  # this folder's best-of-N timer


def peak_bytes(fn) -> int:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def torch_fidelity_prc(gen, real):
    from torch_fidelity.metric_prc import prc_features_to_metric

    out = prc_features_to_metric(torch.from_numpy(gen), torch.from_numpy(real), prc_neighborhood=3,
                                 prc_batch_size=10000, save_cpu_ram=False, verbose=False)
    return out["precision"], out["recall"]


def prdc_dc(gen, real):
    from prdc import compute_prdc

    with contextlib.redirect_stdout(io.StringIO()):  # compute_prdc prints the sample counts
        out = compute_prdc(real_features=real, fake_features=gen, nearest_k=5)
    return out["density"], out["coverage"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    mixing = rng.standard_normal((args.dim, args.dim), dtype=np.float32) / np.float32(np.sqrt(args.dim))
    real = np.maximum(rng.standard_normal((args.n, args.dim), dtype=np.float32) @ mixing, 0)
    gen = np.maximum(rng.standard_normal((args.n, args.dim), dtype=np.float32) @ (mixing * 1.01), 0)  # 1% wider
    print(f"{args.n} generated x {args.n} real, {args.dim}-d {gen.dtype} features; torch threads {torch.get_num_threads()}")

    pr, t_pr = timed(lambda: precision_recall(gen, real, k=3), args.repeat)
    pr_peer, t_pr_peer = timed(lambda: torch_fidelity_prc(gen, real), args.repeat)
    dc, t_dc = timed(lambda: density_coverage(gen, real, k=5), args.repeat)
    dc_peer, t_dc_peer = timed(lambda: prdc_dc(gen, real), args.repeat)
    both, t_both = timed(lambda: knn_metrics(gen, real), args.repeat)
    peak = peak_bytes(lambda: knn_metrics(gen, real))

    print("\n| metric | evalkit s | peer | peer s | peer / evalkit | evalkit value | peer value |")
    print("| --- | ---: | --- | ---: | ---: | --- | --- |")
    print(f"| precision, recall (k=3) | {t_pr:.1f} | torch-fidelity prc | {t_pr_peer:.1f} | {t_pr_peer / t_pr:.2f} | "
          f"{pr[0]:.4f}, {pr[1]:.4f} | {pr_peer[0]:.4f}, {pr_peer[1]:.4f} |")
    print(f"| density, coverage (k=5) | {t_dc:.1f} | prdc | {t_dc_peer:.1f} | {t_dc_peer / t_dc:.2f} | "
          f"{dc[0]:.4f}, {dc[1]:.4f} | {dc_peer[0]:.4f}, {dc_peer[1]:.4f} |")
    print(f"| all four (knn_metrics) | {t_both:.1f} | both peers | {t_pr_peer + t_dc_peer:.1f} | "
          f"{(t_pr_peer + t_dc_peer) / t_both:.2f} | | |")
    print(f"\nevalkit knn_metrics peak (tracemalloc, inputs cast to float64 included): {peak / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
