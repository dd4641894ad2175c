"""Confidence intervals for set statistics that have no cheaper route (CMMD, the kNN
metrics): the delete-a-group jackknife (Kott 2001), as `fid_interval` does for FID.

The resampling units (prompts: a prompt's images stay together) are split at random
into G groups; replicate g recomputes the statistic without group g, a genuine value on
(G-1)/G of the images with none duplicated (kNN balls and MMD kernels are distorted by
the duplicates a bootstrap makes). std² = (G-1)/G · Σ (θ_(g) − mean)², and the interval is
value ± t_{G-1} · std (functional.frechet_ci.IntervalEstimate), so a std estimated from
few groups widens the interval instead of under-covering. Each replicate costs one
evaluation of the statistic.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from evalkit.metrics.functional.frechet_ci import IntervalEstimate
from evalkit.metrics.functional.paired import unit_index
from evalkit.results import Estimate


def jackknife(statistic: Callable[[np.ndarray], np.ndarray], value: np.ndarray, groups, replicates: int = 20,
              seed: int = 0) -> list[IntervalEstimate] | None:
    """IntervalEstimates of each component of statistic(rows) (a 1-d array), whose value on
    every row is `value`; `groups` labels rows by prompt. None when fewer than 2 groups."""
    units = unit_index(groups, len(groups))
    n_units = int(units.max()) + 1 if len(units) else 0
    g = min(replicates, n_units)
    if g < 2:
        return None
    group_of_unit = np.empty(n_units, dtype=np.int64)
    group_of_unit[np.random.default_rng(seed).permutation(n_units)] = np.arange(n_units) % g
    group_of_row = group_of_unit[units]
    reps = np.array([np.atleast_1d(statistic(np.flatnonzero(group_of_row != j))) for j in range(g)], np.float64)
    std = np.sqrt((g - 1) / g * np.sum((reps - reps.mean(axis=0)) ** 2, axis=0))
    value = np.atleast_1d(np.asarray(value, np.float64))
    return [IntervalEstimate(float(value[i]), reps[:, i], float(std[i]), g - 1.0) for i in range(len(value))]


def as_estimate(interval: IntervalEstimate, n: int, bounds: tuple[float, float] = (-np.inf, np.inf)) -> Estimate:
    """The 95% interval as an Estimate, clipped to the statistic's range (FID >= 0, shares in [0, 1])."""
    low, high = interval.interval()
    return Estimate(interval.value, max(low, bounds[0]), min(high, bounds[1]), interval.std, n)
