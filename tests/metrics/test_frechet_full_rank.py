"""The Fréchet round-off floor applies only to known rank-deficient covariances (issue 14),
and reference statistics are validated with one-line problems."""

import numpy as np
import pytest
import scipy.linalg

from evalkit.metrics.functional.frechet import (
    PSD_RTOL,
    SYMMETRY_RTOL,
    check_stats,
    frechet_distance,
    frechet_distance_to_stats,
    mean_and_cov,
)


def sqrtm_fid(mu1, s1, mu2, s2):
    """pytorch-fid / clean-fid: scipy.linalg.sqrtm of S1 S2."""
    root = scipy.linalg.sqrtm(s1 @ s2)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(root.real))


@pytest.fixture(scope="module")
def near_identical_full_rank():
    # Two 1000-sample sets from one 128-d Gaussian, half its variances 1.6e-7: full rank,
    # but S1 S2 has 64 genuine eigenvalues ~1e-14, below the old floor 128·eps·λmax ≈ 5e-14.
    rng = np.random.default_rng(0)
    scales = np.where(np.arange(128) < 64, 1.0, 4e-4)
    x1, x2 = rng.standard_normal((2, 1000, 128)) * scales
    return x1, x2, (*mean_and_cov(x1), *mean_and_cov(x2))


def test_full_rank_fid_matches_sqrtm_where_the_old_floor_was_biased(near_identical_full_rank):
    x1, x2, stats = near_identical_full_rank
    expected = sqrtm_fid(*stats)
    # Each tiny eigenvalue's square root (~1e-7) carries ~eps·λmax / (2·1e-7) ~ 1e-9 of
    # solver round-off in either method: 64 of them stay far below 2e-8.
    assert frechet_distance(*stats) == pytest.approx(expected, abs=2e-8)
    assert frechet_distance(*stats, n1=1000, n2=1000) == pytest.approx(expected, abs=2e-8)
    assert frechet_distance_to_stats(x1, *stats[2:]) == pytest.approx(expected, abs=2e-8)
    # The floor, were it applied here, drops those 64 eigenvalues: +1.9e-5, three orders off.
    floored = frechet_distance(*stats, n1=128, n2=128)
    assert floored - expected > 1e-5


def test_full_rank_fid_matches_the_nuclear_norm_formula(near_identical_full_rank):
    # Independent and more accurate: Tr((S1 S2)^1/2) = nuclear norm of A1 A2^T (SVD).
    x1, x2, (mu1, s1, mu2, s2) = near_identical_full_rank
    a1, a2 = (x1 - mu1) / np.sqrt(999), (x2 - mu2) / np.sqrt(999)
    trace_sqrt = np.linalg.svd(a1 @ a2.T, compute_uv=False).sum()
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, abs=2e-8)


@pytest.mark.parametrize("n_known", [True, False])
def test_rank_deficient_side_keeps_the_floor(n_known):
    # 40 samples in 64-d (rank 39) against a full-rank reference: 25 true zero eigenvalues
    # of S1 S2 come out as round-off; without the floor their square roots add ~1e-7.
    rng = np.random.default_rng(3)
    x1, x2 = rng.normal(size=(40, 64)), rng.normal(size=(400, 64)) + 0.2
    (mu1, s1), (mu2, s2) = mean_and_cov(x1), mean_and_cov(x2)
    a1, a2 = (x1 - mu1) / np.sqrt(39), (x2 - mu2) / np.sqrt(399)
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.linalg.svd(a1 @ a2.T, compute_uv=False).sum()
    counts = {"n1": 40, "n2": 400} if n_known else {}
    assert frechet_distance(mu1, s1, mu2, s2, **counts) == pytest.approx(expected, rel=1e-9)


@pytest.fixture(scope="module")
def stats():
    rng = np.random.default_rng(1)
    return mean_and_cov(rng.normal(size=(300, 32)) @ rng.normal(size=(32, 32)))


def test_valid_statistics_pass(stats):
    mu, sigma = stats
    assert check_stats(mu, sigma, 32) is None
    # Stored in float32 (eigenvalue shifts ~eps32·λmax) and from fewer samples than dims
    # (round-off negative eigenvalues ~eps64·λmax): both within tolerance.
    assert check_stats(mu.astype(np.float32), sigma.astype(np.float32), 32) is None
    assert check_stats(*mean_and_cov(np.random.default_rng(2).normal(size=(10, 32))), 32) is None


@pytest.mark.parametrize(
    "broken, message",
    [
        (lambda mu, s: (mu, -np.eye(32)), "sigma is not positive semi-definite: smallest eigenvalue -1 <"),
        (lambda mu, s: (mu, s + np.triu(np.full_like(s, 0.1), 1)), "sigma is not symmetric: max |sigma - sigma.T| = 0.1 >"),
        (lambda mu, s: (np.where(np.arange(32) == 5, np.inf, mu), s), "mu has 1 non-finite value (NaN or inf)"),
        (lambda mu, s: (mu, np.where(np.eye(32) > 0, np.nan, s)), "sigma has 32 non-finite values (NaN or inf)"),
        (lambda mu, s: (mu, s[:, :3]), "sigma has shape (32, 3), expected (32, 32)"),
        (lambda mu, s: (mu[:, None], s), "mu has shape (32, 1), expected (32,)"),
        (lambda mu, s: (mu.astype(object), s), "mu has dtype object, expected real numbers"),
    ],
    ids=["minus-identity", "asymmetric", "inf-in-mu", "nan-in-sigma", "sigma-shape", "mu-shape", "object-dtype"],
)
def test_broken_statistics_are_named_in_one_line(stats, broken, message):
    problem = check_stats(*broken(*stats), 32)
    assert problem is not None and problem.startswith(message) and "\n" not in problem


def test_tolerances_are_relative_to_scale(stats):
    mu, sigma = stats
    scale = np.abs(sigma).max()
    nudge = np.zeros_like(sigma)
    nudge[0, 1] = 0.5 * SYMMETRY_RTOL * scale
    assert check_stats(mu * 1e6, (sigma + nudge) * 1e6, 32) is None  # within tolerance at any scale
    nudge[0, 1] = 2 * SYMMETRY_RTOL * scale
    assert check_stats(mu, sigma + nudge, 32).startswith("sigma is not symmetric")
    top = np.linalg.eigvalsh(sigma)[-1]
    vals, vecs = np.linalg.eigh(sigma)
    vals[0] = -2 * PSD_RTOL * top
    assert check_stats(mu, (vecs * vals) @ vecs.T, 32).startswith("sigma is not positive semi-definite")


def test_fid_shape_error_names_sigma():
    with pytest.raises(ValueError, match=r"sigma has shape \(4, 3\), expected \(4, 4\)"):
        frechet_distance(np.zeros(4), np.eye(4), np.zeros(4), np.eye(4)[:, :3])
