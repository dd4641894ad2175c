"""Kernel two-sample statistics: the unbiased polynomial-kernel MMD behind KID.

Follows the definition torch-fidelity uses (Bińkowski et al. 2018): kernel
k(x, y) = (x·y / d + 1)^3, unbiased MMD² on random subsets of equal size drawn
without replacement, reported as mean and standard deviation over subsets.
"""

from __future__ import annotations

import numpy as np


def polynomial_kernel(x: np.ndarray, y: np.ndarray, degree: int = 3, gamma: float | None = None, coef0: float = 1.0):
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    return (x @ y.T * gamma + coef0) ** degree


def mmd2_unbiased(k_xx: np.ndarray, k_xy: np.ndarray, k_yy: np.ndarray) -> float:
    """Unbiased MMD² from kernel matrices of two equal-size samples."""
    m = k_xx.shape[0]
    sum_xx = k_xx.sum() - np.trace(k_xx)
    sum_yy = k_yy.sum() - np.trace(k_yy)
    return float((sum_xx + sum_yy) / (m * (m - 1)) - 2 * k_xy.sum() / (m * m))


def kid_subsets(
    features1: np.ndarray,
    features2: np.ndarray,
    subset_size: int = 1000,
    subsets: int = 100,
    seed: int = 0,
    degree: int = 3,
    gamma: float | None = None,
    coef0: float = 1.0,
) -> np.ndarray:
    """MMD² of each of `subsets` random subset pairs (torch-fidelity's sampling order)."""
    f1 = np.asarray(features1, np.float64)
    f2 = np.asarray(features2, np.float64)
    n1, n2 = len(f1), len(f2)
    if subset_size > min(n1, n2):
        raise ValueError(
            f"KID subset size {subset_size} is larger than the number of samples "
            f"({n1} generated, {n2} reference); lower kid subset_size or add images"
        )
    if subset_size < 2:
        raise ValueError("KID subset size must be at least 2")
    rng = np.random.RandomState(seed)
    out = np.empty(subsets)
    for i in range(subsets):
        x = f1[rng.choice(n1, subset_size, replace=False)]
        y = f2[rng.choice(n2, subset_size, replace=False)]
        out[i] = mmd2_unbiased(
            polynomial_kernel(x, x, degree, gamma, coef0),
            polynomial_kernel(x, y, degree, gamma, coef0),
            polynomial_kernel(y, y, degree, gamma, coef0),
        )
    return out


def mmd2_rbf(x: np.ndarray, y: np.ndarray, sigma: float = 10.0) -> float:
    """Biased (V-statistic) MMD² with a Gaussian RBF kernel exp(-|a-b|² / (2 sigma²)).

    This is CMMD's estimator (Jayasumana et al. 2024, google-research/cmmd): the means
    of the three kernel matrices, diagonals included, on all samples.
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    gamma = 1.0 / (2 * sigma**2)

    def mean_kernel(a, b):
        sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
        return float(np.exp(-gamma * sq).mean())

    return mean_kernel(x, x) + mean_kernel(y, y) - 2 * mean_kernel(x, y)
