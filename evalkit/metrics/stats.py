"""Bootstrap confidence intervals."""

from __future__ import annotations

import numpy as np

from evalkit.results import Estimate


def bootstrap_mean_ci(values, level: float = 0.95, resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean of `values` (resampling values with replacement)."""
    x = np.asarray(values, dtype=np.float64)
    if len(x) == 0:
        return float("nan"), float("nan")
    if len(x) == 1:
        return float(x[0]), float(x[0])
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(resamples, len(x)))].mean(axis=1)
    alpha = (1 - level) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return float(low), float(high)


def normal_bootstrap_estimate(value: float, statistic, n: int, resamples: int, seed: int = 0,
                              floor: float | None = None) -> Estimate:
    """value ± 1.96 · the bootstrap standard deviation of statistic(idx) over `resamples` draws
    of n indices with replacement (no CI when resamples <= 1); the low end is clipped at `floor`.

    A percentile interval would sit off-centre for set statistics such as FID: resampling
    with replacement repeats samples, which moves the statistic (FID rises).
    """
    from evalkit.metrics.functional.frechet import bootstrap_std

    if resamples <= 1:
        return Estimate(value, n=n)
    half = Z95 * bootstrap_std(statistic, n, resamples, seed)
    low = value - half if floor is None else max(value - half, floor)
    return Estimate(value, low, value + half, n=n)


Z95 = 1.959963984540054
