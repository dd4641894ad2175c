"""Krippendorff's alpha, written out (pure numpy) rather than taken from a package: it is
thirty lines, and the tests check it against Krippendorff's own worked example and against
the `krippendorff` package when that is installed.

alpha = 1 - D_o / D_e from the coincidence matrix (Krippendorff 2011, "Computing
Krippendorff's Alpha-Reliability"): units with fewer than two values are not pairable and
are skipped; metric "nominal" (any difference counts 1) or "ordinal" (differences weighted
by how many values lie between them, the right choice for A < indifferent < B) or
"interval" ((c - k)^2).

Perfect agreement on a single value (every rater gave the same answer everywhere) makes
D_o = D_e = 0, which Krippendorff leaves undefined; there is no disagreement at all, so we
report alpha = 1 (and nan only when no unit has two values: nothing to measure)."""

from __future__ import annotations

import numpy as np


def _delta(metric: str, values: np.ndarray, n_c: np.ndarray) -> np.ndarray:
    if metric == "nominal":
        return 1.0 - np.eye(len(values))
    if metric == "interval":
        return (values[:, None] - values[None, :]) ** 2
    if metric == "ordinal":
        cum = np.cumsum(n_c)
        lo = np.minimum.outer(np.arange(len(values)), np.arange(len(values)))
        hi = np.maximum.outer(np.arange(len(values)), np.arange(len(values)))
        # sum of n_g for g from c to k, minus half of n_c and n_k
        between = cum[hi] - np.where(lo > 0, cum[lo - 1], 0.0)
        return (between - (n_c[lo] + n_c[hi]) / 2) ** 2
    raise ValueError(f"unknown metric {metric!r}; use nominal, ordinal or interval")


def krippendorff_alpha(data: np.ndarray, metric: str = "nominal") -> float:
    """alpha for a coders x units array of numeric values, NaN where a coder gave none. 1 when
    the pairable values all agree (even on one value only); NaN when no unit has two values."""
    data = np.asarray(data, dtype=float)
    values = np.unique(data[~np.isnan(data)])
    if len(values) == 0:
        return float("nan")
    index = {v: n for n, v in enumerate(values)}
    coincidence = np.zeros((len(values), len(values)))
    for unit in data.T:
        present = [index[v] for v in unit[~np.isnan(unit)]]
        m = len(present)
        if m < 2:
            continue
        tally = np.bincount(present, minlength=len(values)).astype(float)
        # ordered pairs of different coders within the unit, each weighted 1 / (m - 1)
        coincidence += (np.outer(tally, tally) - np.diag(tally)) / (m - 1)
    n_c = coincidence.sum(axis=1)
    n = n_c.sum()
    if n == 0:
        return float("nan")
    delta = _delta(metric, values, n_c)
    observed = (coincidence * delta).sum()
    expected = (np.outer(n_c, n_c) * delta).sum() / (n - 1)
    if observed == 0:  # no disagreement, with or without variation between units
        return 1.0
    return float(1.0 - observed / expected)
