"""Sample-size advice: a one-line warning when N is below what an estimator needs, else None.

Thresholds and where they come from (docs/estimators.md, "Sample-size advice"):
- Fréchet distances (FID, FD-DINOv2, CLIP-FID): a covariance of n <= d samples is
  singular (rank <= n - 1); the TTUR README (Heusel et al. 2017) asks for more samples
  than dimensions and recommends at least 10,000; the estimator is biased upward by a
  model-dependent amount that shrinks like 1/N (Chong & Forsyth 2020), so FIDs are
  comparable only at equal N.
- KID: the MMD^2 estimator is unbiased at any N (Bińkowski et al. 2018), but a subset
  cannot be larger than the smaller set, and two random subsets of m out of n share m/n
  of their samples on average, so past m = n/2 the std over subsets mostly measures
  the same images again and understates the uncertainty.
- kNN metrics (precision/recall, density/coverage): the k-th neighbour must exist
  (N > k); radii shrink as N grows, so values are comparable only at equal N (prdc's
  own example uses 10,000 + 10,000 samples, k = 5); and a perfect model's expected
  coverage, 1 - prod_{i=1..k} (N - i) / (N + M - i) for N real and M generated (Naeem et
  al. 2020), falls below its equal-size value when M < N: past 5% below, we warn.
"""

from __future__ import annotations

import math

from evalkit.metrics.functional.frechet import rank_deficiency_warning

RECOMMENDED_N = 10_000
MIN_COVERAGE_RATIO = 0.95  # a perfect model's expected coverage vs its equal-size value


def frechet_sample_size_warning(n: int, dim: int, n_ref: int | None = None, what: str = "FID") -> str | None:
    """Warn when the generated (n) or reference (n_ref) sample count is too small for a
    Fréchet distance of `dim`-d features."""
    for count, label in ((n, what), (n_ref, f"{what} reference statistics")):
        if count is not None and count <= dim:
            return rank_deficiency_warning(count, dim, label)
    if n < RECOMMENDED_N:
        return (f"{what} from {n} samples < {RECOMMENDED_N:,}: the estimate is biased upward by an amount "
                "that shrinks like 1/N and depends on the model; compare only values at the same N")
    return None


def kid_sample_size_warning(n: int, n_ref: int, subset_size: int) -> str | None:
    """Warn when KID's subsets do not fit in, or mostly repeat, the smaller sample."""
    smaller = min(n, n_ref)
    if subset_size > smaller:
        return (f"KID subset size {subset_size} is larger than the smaller sample ({smaller}); "
                f"lower kid subset_size to at most {smaller} or add images")
    if 2 * subset_size > smaller:
        return (f"KID subsets of {subset_size} out of {smaller} samples share {subset_size / smaller:.0%} of their "
                f"samples on average, so the std over subsets understates the uncertainty; "
                f"use subset_size <= {smaller // 2}")
    return None


def expected_perfect_coverage(n_real: int, n_gen: int, k: int) -> float:
    """E[coverage] when generated and real samples come from one distribution (Naeem et al.
    2020): 1 - prod_{i=1..k} (n_real - i) / (n_real + n_gen - i)."""
    return 1.0 - math.prod((n_real - i) / (n_real + n_gen - i) for i in range(1, k + 1))


def knn_sample_size_warning(n_gen: int, n_real: int, k: int, what: str = "precision/recall") -> str | None:
    """Warn when kNN-ball metrics with this k get too few or too unbalanced samples."""
    smaller = min(n_gen, n_real)
    if smaller <= k:
        return f"{what} with k = {k} needs more than {k} samples in each set, got {n_gen} generated and {n_real} real"
    perfect, balanced = expected_perfect_coverage(n_real, n_gen, k), expected_perfect_coverage(n_real, n_real, k)
    if perfect < MIN_COVERAGE_RATIO * balanced:
        return (f"{what}: {n_gen} generated vs {n_real} real samples is unbalanced (a perfect model's expected "
                f"coverage would be {perfect:.3f}, {balanced:.3f} at equal sizes); use as many generated as real samples")
    if smaller < RECOMMENDED_N:
        return (f"{what} from {smaller} samples < {RECOMMENDED_N:,}: kNN radii shrink as N grows, so compare "
                "only values at the same N and k")
    return None
