"""Confidence intervals and tests for proportions (pure math)."""

from __future__ import annotations

import math

Z95 = 1.959963984540054


def wilson(k: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials: well behaved at 0 and n, where the
    normal interval collapses to a point. (nan, nan) for n = 0."""
    if n <= 0:
        return (math.nan, math.nan)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def binomial_p(k: int, n: int, p: float = 0.5) -> float:
    """Two-sided exact binomial test of k successes in n trials against rate p (scipy); nan for n = 0."""
    if n <= 0:
        return math.nan
    from scipy.stats import binomtest

    return float(binomtest(int(k), int(n), p).pvalue)


def holm(pvalues: list[float]) -> list[float]:
    """Holm's step-down adjustment (family-wise error over many raters); nan stays nan."""
    finite = sorted((p, i) for i, p in enumerate(pvalues) if not math.isnan(p))
    adjusted, running = [math.nan] * len(pvalues), 0.0
    for rank, (p, i) in enumerate(finite):
        running = max(running, min(1.0, (len(finite) - rank) * p))
        adjusted[i] = running
    return adjusted
