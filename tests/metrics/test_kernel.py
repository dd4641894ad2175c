import numpy as np
import pytest

from evalkit.metrics.functional.kernel import kid_subsets, mmd2_unbiased, polynomial_kernel


def naive_unbiased_mmd2(x, y):
    """Direct double sums of the unbiased estimator with k(a,b) = (a.b/d + 1)^3."""
    d, m = x.shape[1], len(x)
    k = lambda a, b: (a @ b / d + 1) ** 3  # noqa: E731
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_mmd2_matches_double_sums():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(7, 5)), rng.normal(size=(7, 5)) + 0.5
    got = mmd2_unbiased(polynomial_kernel(x, x), polynomial_kernel(x, y), polynomial_kernel(y, y))
    assert got == pytest.approx(naive_unbiased_mmd2(x, y), rel=1e-12)


def test_kid_subsets_use_torch_fidelity_sampling_order():
    rng = np.random.default_rng(2)
    f1, f2 = rng.normal(size=(20, 6)), rng.normal(size=(15, 6))
    got = kid_subsets(f1, f2, subset_size=5, subsets=3, seed=123)
    state = np.random.RandomState(123)
    expected = []
    for _ in range(3):
        x = f1[state.choice(20, 5, replace=False)]
        y = f2[state.choice(15, 5, replace=False)]
        expected.append(naive_unbiased_mmd2(x, y))
    assert got == pytest.approx(expected, rel=1e-10)


def test_too_few_samples_is_a_clear_error():
    with pytest.raises(ValueError, match="KID subset size 10 is larger than the number of samples"):
        kid_subsets(np.zeros((5, 3)), np.zeros((20, 3)), subset_size=10)
