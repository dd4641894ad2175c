"""The expensive steps of the Fréchet distance on a torch device (a GPU when the metric
runs on one), in float64 as the formula needs: the mean and covariance of N x d features
(N·d² multiply-adds: seconds for 30K x 2048 on a CPU) and Tr((S1 S2)^{1/2}) through a
Cholesky factor and a symmetric eigensolve. Same mathematics as frechet.py — the same
rank-deficiency rule and round-off floor — and a CPU parity test runs this code path.
"""

from __future__ import annotations

import numpy as np

from evalkit.metrics.functional.frechet import sum_sqrt_eigenvalues, trace_sqrt_product


def mean_and_cov_torch(features, device: str = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """Mean and unbiased covariance (ddof=1) of an (N, D) feature matrix, computed in float64 on `device`."""
    import torch

    x = torch.as_tensor(np.asarray(features), device=device).to(torch.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"need an (N, D) feature matrix with N >= 2, got shape {tuple(x.shape)}")
    mu = x.mean(0)
    xc = x - mu
    sigma = (xc.T @ xc) / (x.shape[0] - 1)
    return mu.cpu().numpy(), sigma.cpu().numpy()


def trace_sqrt_product_torch(sigma1, sigma2, n1: int | None = None, n2: int | None = None, device: str = "cpu") -> float:
    """Tr((S1 S2)^{1/2}): eigenvalues of L^T S1 L with S2 = L L^T, on `device`; where S2 (or
    S1) is known or found to be singular, the NumPy path's fallbacks decide (frechet.py)."""
    import torch

    d = len(sigma1)
    rank_deficient = any(n is not None and n <= d for n in (n1, n2))
    if rank_deficient:
        return trace_sqrt_product(sigma1, sigma2, n1, n2)
    s1 = torch.as_tensor(np.asarray(sigma1), device=device).to(torch.float64)
    s2 = torch.as_tensor(np.asarray(sigma2), device=device).to(torch.float64)
    factor, info = torch.linalg.cholesky_ex(s2)
    if int(info) != 0:
        return trace_sqrt_product(sigma1, sigma2, n1, n2)
    inner = factor.T @ s1 @ factor
    vals = torch.linalg.eigvalsh((inner + inner.T) / 2).cpu().numpy()
    return sum_sqrt_eigenvalues(vals, rank_deficient=False)


def frechet_distance_torch(mu1, sigma1, mu2, sigma2, n1: int | None = None, n2: int | None = None,
                           device: str = "cpu") -> float:
    """frechet.frechet_distance, with the trace term computed on `device`."""
    diff = np.asarray(mu1, np.float64) - np.asarray(mu2, np.float64)
    trace = trace_sqrt_product_torch(sigma1, sigma2, n1, n2, device)
    return max(float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace), 0.0)


def torch_device(device: str | None) -> str | None:
    """The device the Fréchet steps run on: a CUDA metric device, else None (NumPy, which is
    as fast on a CPU and needs no torch)."""
    return device if device and str(device).startswith("cuda") else None


def gram(x: np.ndarray, white: np.ndarray | None = None, device: str | None = None) -> np.ndarray:
    """y^T y for y = x (or x · white), in float64 (N·d² multiply-adds each): NumPy, or torch on `device`."""
    if device is None:
        y = x if white is None else x @ white
        return y.T @ y
    import torch

    y = torch.as_tensor(np.asarray(x), device=device).to(torch.float64)
    if white is not None:
        y = y @ torch.as_tensor(white, device=device).to(torch.float64)
    return (y.T @ y).cpu().numpy()


def eigvalsh(matrix: np.ndarray, device: str | None = None) -> np.ndarray:
    """Eigenvalues of a symmetric matrix (d³): SciPy's evr driver, or torch on `device`."""
    if device is None:
        import scipy.linalg

        return scipy.linalg.eigh(matrix, eigvals_only=True, overwrite_a=True, check_finite=False, driver="evr")
    import torch

    return torch.linalg.eigvalsh(torch.as_tensor(matrix, device=device).to(torch.float64)).cpu().numpy()


def eigh(matrix: np.ndarray, device: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues and eigenvectors of a symmetric matrix: NumPy, or torch on `device`."""
    if device is None:
        return np.linalg.eigh(matrix)
    import torch

    vals, vecs = torch.linalg.eigh(torch.as_tensor(matrix, device=device).to(torch.float64))
    return vals.cpu().numpy(), vecs.cpu().numpy()

