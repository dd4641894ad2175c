"""Paired deltas of per-sample metrics (e.g. per-image CLIP scores) between two runs.

The runs share prompt ids and seeds, so each prompt is one paired unit: its delta is
the mean of run A's scores for the prompt minus the mean of run B's. The reported delta
is the mean over prompts of those deltas (with the same images per prompt in both runs
this equals mean(A) - mean(B) over images). Its CI resamples prompts (the percentile
bootstrap of evalkit.metrics.stats); its p-value is a sign-flip permutation test
(scipy.stats.permutation_test, permutation_type="samples"): under "A and B are the same
model" the two runs' scores for a prompt are exchangeable, so every prompt delta is as
likely to be +d as -d. That test is exact at any number of prompts (all 2^n sign
patterns when 2^n <= permutations), where a bootstrap p-value is only asymptotic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalkit.metrics.stats import bootstrap_mean_ci


@dataclass(frozen=True)
class PairedDelta:
    """mean(A) - mean(B) over paired units, its CI, and the p-value of delta == 0."""

    delta: float
    low: float
    high: float
    p_value: float
    units: int


def unit_index(groups, n_rows: int) -> np.ndarray:
    """The resampling unit of each row: the index of its group label, or the row itself."""
    if groups is None:
        return np.arange(n_rows)
    groups = np.asarray(groups)
    if len(groups) != n_rows:
        raise ValueError(f"groups has {len(groups)} labels for {n_rows} rows")
    return np.unique(groups, return_inverse=True)[1].ravel()


def unit_means(scores, units: np.ndarray) -> np.ndarray:
    """Mean score of each unit (units from unit_index)."""
    return np.bincount(units, weights=np.asarray(scores, np.float64)) / np.bincount(units)


def paired_mean_delta(scores_a, scores_b, groups=None, level: float = 0.95, resamples: int = 2000,
                      permutations: int = 9999, seed: int = 0) -> PairedDelta:
    """Paired delta of a per-sample score between runs A and B with aligned rows.

    Row i of both runs is the same prompt and seed; `groups` labels rows by prompt.
    """
    import scipy.stats

    a, b = np.asarray(scores_a, np.float64), np.asarray(scores_b, np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired scores need aligned 1-d rows: shapes {a.shape} and {b.shape}")
    units = unit_index(groups, len(a))
    deltas = unit_means(a, units) - unit_means(b, units)
    if len(deltas) < 2:
        raise ValueError("a paired delta needs at least 2 prompts")
    low, high = bootstrap_mean_ci(deltas, level=level, resamples=resamples, seed=seed)
    test = scipy.stats.permutation_test(
        (deltas,), lambda d, axis: np.mean(d, axis=axis), permutation_type="samples", vectorized=True,
        n_resamples=permutations, alternative="two-sided", random_state=seed, batch=max(1, 2**24 // len(deltas)),
    )
    return PairedDelta(float(deltas.mean()), low, high, float(test.pvalue), len(deltas))
