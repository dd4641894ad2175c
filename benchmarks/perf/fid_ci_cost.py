"""What a FID confidence interval costs: FID alone; FID + a CI from sufficient statistics
(evalkit.metrics.functional.frechet_ci: the delete-a-group jackknife, exact and to first
order, and the block bootstrap); FID + today's brute-force bootstrap (bootstrap_std over
frechet_distance_to_stats, which recomputes the covariance of all N features per
resample). One process, the same synthetic features.

    .venv/bin/python benchmarks/perf/fid_ci_cost.py [--n 30000] [--dim 2048] [--resamples 20]

Features: float32, like Inception pool3 output, with a decaying covariance spectrum;
the reference statistics come from another N samples of a slightly different
distribution (so FID is well away from 0). Prints a markdown table. On a shared 2-core
VM timings wander; each row is the best of --repeat runs.
"""

from __future__ import annotations

import argparse

import numpy as np

from evalkit.metrics.functional.frechet import bootstrap_std, frechet_distance_to_stats, mean_and_cov
from evalkit.metrics.functional.frechet_ci import CIPlan, GaussianStats, fid_interval
from metrics_vs_peers import timed  # this folder's best-of-N timer

Z95 = 1.959963984540054


def features(rng, n: int, mixing: np.ndarray, offset: float) -> np.ndarray:
    return np.maximum(rng.standard_normal((n, len(mixing)), dtype=np.float32) @ mixing + offset, 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30000)
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--resamples", type=int, default=20)
    parser.add_argument("--blocks", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--skip-brute-force", action="store_true")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    spectrum = (np.arange(1, args.dim + 1, dtype=np.float32) ** -0.75)[:, None]
    mixing = (rng.standard_normal((args.dim, args.dim), dtype=np.float32) * spectrum / np.float32(np.sqrt(args.dim)))
    ref = GaussianStats.of(features(rng, args.n, mixing * 1.02, 0.3))
    gen = features(rng, args.n, mixing, 0.31)
    print(f"{args.n} generated x {args.dim}-d {gen.dtype} features vs {ref.n}-sample reference statistics; "
          f"{args.resamples} resamples, {args.blocks} blocks")

    fid, t_fid = timed(lambda: frechet_distance_to_stats(gen, ref.mu, ref.sigma, n_ref=ref.n), args.repeat)
    rows = [("FID alone", t_fid, f"{fid:.4f}", "")]
    for name, plan in ((f"jackknife, {args.resamples} groups", CIPlan("jackknife", args.resamples)),
                       (f"linearized jackknife, {args.resamples} groups", CIPlan("linearized", args.resamples)),
                       (f"bootstrap, {args.resamples} resamples of {args.blocks} blocks",
                        CIPlan("bootstrap", args.resamples, args.blocks))):
        est, seconds = timed(lambda: fid_interval(gen, ref, plan), args.repeat)
        low, high = est.interval()
        rows.append((f"FID + CI, sufficient statistics: {name}", seconds, f"{est.value:.4f}",
                     f"std {est.std:.4f}; 95% [{low:.4f}, {high:.4f}] (t, {est.dof:.1f} dof)"))
    if not args.skip_brute_force:
        def brute():
            value = frechet_distance_to_stats(gen, ref.mu, ref.sigma, n_ref=ref.n)
            std = bootstrap_std(lambda idx: frechet_distance_to_stats(gen[idx], ref.mu, ref.sigma, n_ref=ref.n),
                                len(gen), args.resamples, seed=0)
            return value, std
        (value, std), t_brute = timed(brute, repeat=1)
        rows.append((f"FID + CI, brute-force bootstrap, {args.resamples} resamples (today)", t_brute, f"{value:.4f}",
                     f"std {std:.4f}; 95% [{value - Z95 * std:.4f}, {value + Z95 * std:.4f}] (fid ± 1.96 std)"))

    _, t_cov = timed(lambda: mean_and_cov(gen), args.repeat)
    _, t_eig = timed(lambda: np.linalg.eigvalsh(ref.sigma), args.repeat)
    print(f"unit costs in this run: covariance of the {args.n} features {t_cov:.2f} s, one {args.dim} x {args.dim} "
          f"eigvalsh {t_eig:.2f} s; a CI of R replicates needs R + 1 eigvalsh (R = {args.resamples}: "
          f">= {(args.resamples + 1) * t_eig:.1f} s)")
    print("\n| method | seconds | x FID alone | FID | CI |\n| --- | ---: | ---: | ---: | --- |")
    for name, seconds, value, ci in rows:
        print(f"| {name} | {seconds:.1f} | {seconds / t_fid:.2f} | {value} | {ci} |")


if __name__ == "__main__":
    main()
