"""The linearised jackknife (frechet_linear) against the exact delete-a-group jackknife."""

import numpy as np
import pytest

from evalkit.metrics.functional.frechet import frechet_distance_to_stats
from evalkit.metrics.functional.frechet_ci import CIPlan, GaussianStats, fid_interval, paired_fid_interval


def data(seed: int, n: int, d: int, n_ref: int = 8000):
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(d, d)) / np.sqrt(d)
    ref = GaussianStats.of(rng.normal(size=(n_ref, d)) @ mix)
    return (rng.normal(size=(n, d)) @ mix) * 1.05 + 0.02, ref


@pytest.mark.parametrize("n, d", [(3000, 32), (1900, 256)])  # d²/N^1.5 from 0.01 to 0.8 (FID-30K's regime)
def test_the_std_matches_the_exact_jackknife(n, d):
    ratios = []
    for seed in range(3):
        x, ref = data(seed, n, d)
        groups = np.arange(n) % (n // 2)  # two images per prompt
        exact = fid_interval(x, ref, CIPlan("jackknife"), groups)
        linear = fid_interval(x, ref, CIPlan("linearized"), groups)
        assert linear.value == pytest.approx(frechet_distance_to_stats(x, ref.mu, ref.sigma, ref.n), rel=1e-10)
        assert linear.dof == exact.dof == 19
        # the replicates move together: first-order changes, same groups
        assert np.corrcoef(linear.replicates, exact.replicates)[0, 1] > 0.9
        ratios.append(linear.std / exact.std)
    # each std is itself a 20-replicate estimate (±16%); the two agree far closer than that
    assert 0.93 < np.mean(ratios) < 1.07 and all(0.85 < r < 1.15 for r in ratios), ratios


def test_the_paired_difference_matches_the_exact_jackknife():
    x_a, ref = data(0, 3000, 32)
    x_b = x_a * 0.98 + np.random.default_rng(9).normal(size=x_a.shape) * 0.2
    groups = np.arange(3000) % 1500
    exact = paired_fid_interval(x_a, x_b, ref, groups, CIPlan("jackknife"))
    linear = paired_fid_interval(x_a, x_b, ref, groups, CIPlan("linearized"))
    assert linear.value == pytest.approx(exact.value, rel=1e-9)
    assert linear.std == pytest.approx(exact.std, rel=0.15)


@pytest.mark.parametrize("n, n_ref", [(100, 8000), (3000, 20)])  # N < 4d; a singular (rank-deficient) reference
def test_where_the_expansion_is_not_trusted_it_is_the_exact_jackknife(n, n_ref):
    x, ref = data(1, n, 32, n_ref)
    x = x[:, :32]
    exact = fid_interval(x, ref, CIPlan("jackknife"))
    linear = fid_interval(x, ref, CIPlan("linearized"))
    assert linear.value == exact.value and linear.std == exact.std
    np.testing.assert_array_equal(linear.replicates, exact.replicates)
