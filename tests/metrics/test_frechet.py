import numpy as np
import pytest
import scipy.linalg

from evalkit.metrics.functional.frechet import frechet_distance, mean_and_cov, rank_deficiency_warning


def scipy_fid(mu1, s1, mu2, s2):
    """The pytorch-fid / clean-fid formula with scipy.linalg.sqrtm."""
    covmean, _ = scipy.linalg.sqrtm(s1 @ s2, disp=False)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean.real))


@pytest.mark.parametrize("dim", [8, 64])
def test_matches_scipy_sqrtm_on_well_conditioned_inputs(dim):
    rng = np.random.default_rng(dim)
    a = rng.normal(size=(4 * dim, dim))
    b = rng.normal(size=(4 * dim, dim)) * 1.3 + 0.2
    mu1, s1 = mean_and_cov(a)
    mu2, s2 = mean_and_cov(b)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(scipy_fid(mu1, s1, mu2, s2), rel=1e-6)


def test_identical_sets_give_zero_not_negative():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 100))  # N < D: singular covariance
    mu, s = mean_and_cov(x)
    value = frechet_distance(mu, s, mu, s)
    assert 0 <= value < 1e-6


def test_gaussians_with_known_distance():
    # Diagonal covariances: FID = |mu1-mu2|^2 + sum (sqrt(a) - sqrt(b))^2
    mu1, mu2 = np.array([0.0, 1.0]), np.array([3.0, 1.0])
    s1, s2 = np.diag([4.0, 9.0]), np.diag([1.0, 1.0])
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(9 + (2 - 1) ** 2 + (3 - 1) ** 2)


def test_mean_and_cov_is_unbiased_float64():
    x = np.arange(12, dtype=np.float32).reshape(4, 3) ** 2
    mu, s = mean_and_cov(x)
    assert mu.dtype == np.float64 and np.allclose(s, np.cov(x.astype(np.float64), rowvar=False))


def test_rank_deficiency_warning():
    assert "rank-deficient" in rank_deficiency_warning(100, 2048)
    assert rank_deficiency_warning(4096, 2048) is None


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="differ in shape"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


@pytest.mark.parametrize("n1, n2", [(300, 300), (30, 300), (300, 30), (30, 40)])
def test_singular_covariances_on_either_side_agree_with_direct_eigenvalues(n1, n2):
    # Cholesky path (either side positive definite) and eigh fallback (neither) against
    # an independent exact formula: with S_i = A_i A_i^T, A_i = centred features^T / sqrt(n_i - 1),
    # Tr((S1 S2)^1/2) is the nuclear norm of A1^T A2 (no square roots of round-off noise).
    rng = np.random.default_rng(n1 * 1000 + n2)
    x1, x2 = rng.normal(size=(n1, 64)), rng.normal(size=(n2, 64)) + 0.3
    mu1, s1 = mean_and_cov(x1)
    mu2, s2 = mean_and_cov(x2)
    a1 = (x1 - mu1).T / np.sqrt(n1 - 1)
    a2 = (x2 - mu2).T / np.sqrt(n2 - 1)
    trace_sqrt = np.linalg.svd(a1.T @ a2, compute_uv=False).sum()
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("n1, n2", [(30, 300), (300, 30), (20, 25), (100, 90)])
def test_features_path_equals_stats_path(n1, n2):
    from evalkit.metrics.functional.frechet import frechet_distance_features, frechet_distance_to_stats

    rng = np.random.default_rng(n1 + n2)
    x1, x2 = rng.normal(size=(n1, 64)), rng.normal(size=(n2, 64)) * 0.8 + 0.1
    expected = frechet_distance(*mean_and_cov(x1), *mean_and_cov(x2))
    assert frechet_distance_features(x1, x2) == pytest.approx(expected, rel=1e-9)
    assert frechet_distance_to_stats(x1, *mean_and_cov(x2)) == pytest.approx(expected, rel=1e-9)
    assert frechet_distance_features(x1, x1) == pytest.approx(0.0, abs=1e-9)


def test_bootstrap_std_is_seeded_and_reflects_spread():
    from evalkit.metrics.functional.frechet import bootstrap_std

    x = np.arange(100.0)
    a = bootstrap_std(lambda idx: x[idx].mean(), 100, 200, seed=1)
    assert a == bootstrap_std(lambda idx: x[idx].mean(), 100, 200, seed=1)
    assert a == pytest.approx(x.std() / np.sqrt(100), rel=0.15)  # standard error of the mean
