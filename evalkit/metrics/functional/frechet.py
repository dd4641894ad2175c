"""Fréchet distance between Gaussians fitted to features, in float64.

FID = ||mu1 - mu2||^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^{1/2}).

Tr((S1 S2)^{1/2}) is the sum of the square roots of the eigenvalues of S1 S2. With
S1 = L L^T (Cholesky) those equal the eigenvalues of the symmetric matrix L^T S2 L,
which LAPACK forms and solves directly (`eigh(S2, S1, type=2)`, driver dsygv:
potrf + sygst + a values-only symmetric eigensolver; multiplications by L only, so no
inverse and no loss of accuracy when S1 is ill-conditioned). That takes ~0.65 s for
2048-d on 2 CPU cores (the tridiagonalisation alone is ~0.4 s), against ~15 s for
scipy.linalg.sqrtm, which can also hang or go complex
(pytorch-fid #67, #83, #96). When neither covariance is positive definite (fewer
samples than dimensions on both sides) we fall back to R S2 R with R = S1^{1/2} from
an eigendecomposition. Clipping the tiny negative eigenvalues that round-off produces
keeps the result real and the distance >= 0 (torch-fidelity #44). Only where a covariance
is known to be rank-deficient (n <= d samples, or a failed Cholesky when n is unknown) are
eigenvalues within round-off of zero also dropped: a full-rank product's tiny eigenvalues
are genuine (issue 14).
"""

from __future__ import annotations

import numpy as np


def mean_and_cov(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and unbiased covariance (ddof=1) of an (N, D) feature matrix, in float64."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"need an (N, D) feature matrix with N >= 2, got shape {x.shape}")
    mu = x.mean(axis=0)
    xc = x - mu
    return mu, (xc.T @ xc) / (x.shape[0] - 1)


def _psd_sqrt(sigma: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh(sigma)
    return (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T


def sum_sqrt_eigenvalues(eigenvalues: np.ndarray, rank_deficient: bool) -> float:
    """Sum of the square roots of a PSD product's eigenvalues; round-off negatives count as 0.

    Where a covariance is rank-deficient its true zero eigenvalues come out as +-eps-sized
    noise whose square roots (~1e-8 each) add up, so there, and only there, values below
    len·eps·max|λ| count as zero. A full-rank product keeps every positive eigenvalue: its
    tiny ones are genuine, and dropping them biased full-rank FIDs by +2e-5 (issue 14).
    """
    vals = np.asarray(eigenvalues, np.float64)
    floor = len(vals) * np.finfo(np.float64).eps * float(np.max(np.abs(vals))) if rank_deficient else 0.0
    return float(np.sqrt(np.where(vals > floor, vals, 0.0)).sum())


def cholesky_factor(sigma: np.ndarray, n: int | None = None) -> np.ndarray | None:
    """Lower Cholesky factor L of a covariance (sigma = L L^T), or None where sigma is
    known to be singular: estimated from n <= d samples, or not positive definite."""
    sigma = np.asarray(sigma, np.float64)
    if n is not None and n <= len(sigma):
        return None
    try:
        return np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return None


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray, n1: int | None = None, n2: int | None = None) -> float:
    """Tr((S1 S2)^{1/2}) for symmetric PSD S1, S2 estimated from n1 and n2 samples.

    A covariance is known to be rank-deficient when its sample count is <= its dimension
    (rank <= n - 1), or, with the count unknown, when its Cholesky factorisation fails;
    only then is the round-off floor of `sum_sqrt_eigenvalues` applied.
    """
    import scipy.linalg

    by_count = any(n is not None and n <= len(sigma1) for n in (n1, n2))
    for a, b, n_a in ((sigma1, sigma2, n1), (sigma2, sigma1, n2)):
        try:  # eigenvalues of A B through B's Cholesky factor (B is then positive definite)
            vals = scipy.linalg.eigh(a, b, type=2, eigvals_only=True, check_finite=False, driver="gv")
        except np.linalg.LinAlgError:
            continue  # b is singular: try the other way round
        return sum_sqrt_eigenvalues(vals, by_count or (n_a is None and cholesky_factor(a) is None))
    root1 = _psd_sqrt(sigma1)  # neither factorises: both are singular
    inner = root1 @ sigma2 @ root1
    return sum_sqrt_eigenvalues(np.linalg.eigvalsh((inner + inner.T) / 2), rank_deficient=True)


def frechet_distance(mu1, sigma1, mu2, sigma2, n1: int | None = None, n2: int | None = None) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2); never negative.

    n1, n2: the sample counts behind the covariances, when known (see trace_sqrt_product).
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    for name, mu, sigma in (("first", mu1, sigma1), ("second", mu2, sigma2)):
        problem = _shape_problem(mu, sigma, len(mu1))
        if problem:
            raise ValueError(f"feature statistics differ in shape: {name} {problem}")
    diff = mu1 - mu2
    trace_sqrt = trace_sqrt_product(sigma1, sigma2, n1, n2)
    return max(float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt), 0.0)


# Reference-statistics tolerances, relative to the largest |entry| / |eigenvalue| of sigma.
# A covariance computed in float32 by a GEMM (not syrk) is asymmetric by up to about
# eps32·sqrt(N) ~ 1e-5 for N = 30K; rounding a float64 covariance to float32 shifts its
# eigenvalues by at most eps32·sqrt(d)·λmax ~ 3e-6·λmax (d = 2048). Broken statistics
# (a transposed block, -I, a wrong file) are off by O(1), far outside both.
SYMMETRY_RTOL = 1e-5
PSD_RTOL = 1e-5


def _shape_problem(mu: np.ndarray, sigma: np.ndarray, dim: int) -> str | None:
    if mu.shape != (dim,):
        return f"mu has shape {mu.shape}, expected ({dim},)"
    if sigma.shape != (dim, dim):
        return f"sigma has shape {sigma.shape}, expected ({dim}, {dim})"
    return None


def check_stats(mu, sigma, dim: int) -> str | None:
    """What is wrong with Gaussian statistics (mu, sigma) of `dim`-d features, in one line, or None.

    Checks, in order: shapes, numeric dtype, finiteness, symmetry within SYMMETRY_RTOL and
    positive semi-definiteness within PSD_RTOL (one eigvalsh: ~0.3 s at d = 2048).
    """
    mu, sigma = np.asarray(mu), np.asarray(sigma)
    problem = _shape_problem(mu, sigma, dim)
    if problem:
        return problem
    for name, a in (("mu", mu), ("sigma", sigma)):
        if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
            return f"{name} has dtype {a.dtype}, expected real numbers"
        bad = a.size - int(np.count_nonzero(np.isfinite(a)))
        if bad:
            return f"{name} has {bad} non-finite value{'s' if bad > 1 else ''} (NaN or inf)"
    sigma = sigma.astype(np.float64)
    scale = float(np.max(np.abs(sigma), initial=0.0))
    asym = float(np.max(np.abs(sigma - sigma.T), initial=0.0))
    if asym > SYMMETRY_RTOL * scale:
        return f"sigma is not symmetric: max |sigma - sigma.T| = {asym:.3g} > {SYMMETRY_RTOL:g} x max |sigma| ({scale:.3g})"
    vals = np.linalg.eigvalsh(sigma)
    top = float(np.max(np.abs(vals), initial=0.0))
    if vals[0] < -PSD_RTOL * top:
        return (f"sigma is not positive semi-definite: smallest eigenvalue {vals[0]:.3g} < "
                f"-{PSD_RTOL:g} x largest |eigenvalue| ({top:.3g})")
    return None


def rank_deficiency_warning(n: int, dim: int, what: str = "FID") -> str | None:
    """The covariance of n <= dim samples (rank <= n - 1) is singular: the number is biased upward."""
    if n <= dim:
        return (f"{what} from {n} samples <= {dim} feature dims: the covariance is rank-deficient, "
                "so the value is biased upward and not comparable to FID-30K")
    return None


def frechet_distance_features(x1: np.ndarray, x2: np.ndarray) -> float:
    """FID straight from two feature matrices, exact and cheap when either set is small.

    With A_i = centred features / sqrt(n_i - 1) (so S_i = A_i^T A_i), Tr((S1 S2)^{1/2})
    is the nuclear norm of A1 A2^T, an n1 x n2 matrix: for fewer samples than
    dimensions on either side this avoids every d x d decomposition.
    """
    x1 = np.asarray(x1, np.float64)
    x2 = np.asarray(x2, np.float64)
    (n1, d), n2 = x1.shape, len(x2)
    if min(n1, n2) > d:
        return frechet_distance(*mean_and_cov(x1), *mean_and_cov(x2), n1=n1, n2=n2)
    if min(n1, n2) < 2:
        raise ValueError("need at least 2 samples on each side for FID")
    mu1, mu2 = x1.mean(0), x2.mean(0)
    a1 = (x1 - mu1) / np.sqrt(n1 - 1)
    a2 = (x2 - mu2) / np.sqrt(n2 - 1)
    trace_sqrt = np.linalg.svd(a1 @ a2.T, compute_uv=False).sum()
    diff = mu1 - mu2
    return max(float(diff @ diff + np.sum(a1 * a1) + np.sum(a2 * a2) - 2 * trace_sqrt), 0.0)


def frechet_distance_to_stats(x: np.ndarray, mu: np.ndarray, sigma: np.ndarray, n_ref: int | None = None) -> float:
    """FID of features `x` against reference statistics (from n_ref samples, if known);
    cheap when x has fewer rows than dims.

    With A = centred x / sqrt(n - 1), the nonzero eigenvalues of S_x sigma = A^T A sigma
    are those of the n x n symmetric matrix A sigma A^T (rank <= n - 1: floored).
    """
    x = np.asarray(x, np.float64)
    n, d = x.shape
    if n > d:
        return frechet_distance(*mean_and_cov(x), mu, sigma, n1=n, n2=n_ref)
    mu_x = x.mean(0)
    a = (x - mu_x) / np.sqrt(n - 1)
    inner = a @ np.asarray(sigma, np.float64) @ a.T
    diff = mu_x - np.asarray(mu, np.float64)
    trace_sqrt = sum_sqrt_eigenvalues(np.linalg.eigvalsh((inner + inner.T) / 2), rank_deficient=True)
    return max(float(diff @ diff + np.sum(a * a) + np.trace(sigma) - 2 * trace_sqrt), 0.0)


def bootstrap_std(statistic, n: int, resamples: int, seed: int = 0) -> float:
    """Standard deviation of statistic(idx) over `resamples` draws of n indices with replacement."""
    rng = np.random.default_rng(seed)
    values = [statistic(rng.integers(0, n, n)) for _ in range(resamples)]
    return float(np.std(values, ddof=1))
