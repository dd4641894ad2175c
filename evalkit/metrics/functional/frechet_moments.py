"""Resampling engines for Fréchet distances: FIDs of many reweightings of one feature matrix.

Each feature matrix is reduced once to sufficient statistics; a reweighting (one weight
per cell: an image, a prompt, or a block of them) then costs a weighted sum plus one
eigvalsh, never a pass over the N features (docs/estimators.md has the algebra):

- N > d, `GramBlocks`: per cell the count, the sum, the sum of squared norms and the
  Gram matrix of the centred features, whitened by the reference's Cholesky factor L
  (sigma_ref = L L^T), so that the weighted Gram is L^T S_w L, whose eigenvalues are
  those of S_w sigma_ref: one d x d eigvalsh per reweighting.
- N <= d, `KernelUnits`: n x n kernels Xc Xc^T and Xc sigma_ref Xc^T; the nonzero
  eigenvalues of S_w sigma_ref come from a (<= n) x (<= n) eigvalsh.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalkit.metrics.functional.frechet import cholesky_factor, frechet_distance, mean_and_cov, sum_sqrt_eigenvalues
from evalkit.metrics.functional.frechet_torch import eigvalsh, gram, mean_and_cov_torch


@dataclass(frozen=True)
class GaussianStats:
    """Reference statistics: mean, covariance and (when known) the sample count behind them."""

    mu: np.ndarray
    sigma: np.ndarray
    n: int | None = None

    @classmethod
    def of(cls, features: np.ndarray, device: str | None = None) -> GaussianStats:
        moments = mean_and_cov(features) if device is None else mean_and_cov_torch(features, device)
        return cls(*moments, n=len(features))


def engine_for(x, ref: GaussianStats, cell_of_row: np.ndarray, device: str | None = None):
    """The engine for features x whose rows are grouped into cells 0..C-1; `device`: a torch
    device for the N·d² Grams and the d³ eigensolves (None: NumPy)."""
    n_rows, dim = np.shape(x)
    return KernelUnits(x, ref, cell_of_row) if n_rows <= dim else GramBlocks(x, ref, cell_of_row, device)


def cell_moments(x: np.ndarray, shift: np.ndarray, cell_of_row: np.ndarray, n_cells: int,
                 white: np.ndarray | None = None, device: str | None = None) -> tuple[np.ndarray, ...]:
    """Per cell, in float64, with y = x - shift: the count, the sum of y, the sum of |y|² and
    the Gram of y (of y · white when given); the Grams on `device` (a torch one, or NumPy)."""
    order = np.argsort(cell_of_row, kind="stable")
    bounds = np.searchsorted(cell_of_row[order], np.arange(n_cells + 1))
    d = x.shape[1]
    sums, sqnorms, grams = np.empty((n_cells, d)), np.empty(n_cells), np.empty((n_cells, d, d))
    for c in range(n_cells):
        y = np.subtract(x[order[bounds[c]:bounds[c + 1]]], shift, dtype=np.float64)
        sums[c], sqnorms[c] = y.sum(axis=0), np.einsum("ij,ij->", y, y)
        grams[c] = gram(y, white, device)
    return np.diff(bounds).astype(np.float64), sums, sqnorms, grams


class GramBlocks:
    """Per-cell count, sum, sum of squared norms and (whitened) Gram of centred features."""

    def __init__(self, x: np.ndarray, ref: GaussianStats, block_of_row: np.ndarray, device: str | None = None):
        x = np.asarray(x)
        self.device = device
        self.ref, self.white = ref, cholesky_factor(ref.sigma, ref.n)
        self.trace_ref = float(np.trace(ref.sigma))
        self.shift = x.mean(axis=0, dtype=np.float64)
        self.counts, self.sums, self.sqnorms, self.grams = cell_moments(
            x, self.shift, block_of_row, int(block_of_row.max()) + 1, self.white, device)

    def fids(self, weights: np.ndarray, chunk: int = 8) -> np.ndarray:
        """FID of each reweighting (one row of cell weights each)."""
        weights = np.asarray(weights, np.float64)
        flat = self.grams.reshape(len(self.grams), -1)
        out = np.empty(len(weights))
        for start in range(0, len(weights), chunk):
            w = weights[start:start + chunk]
            for i, weighted in enumerate((w @ flat).reshape(len(w), *self.grams.shape[1:])):
                out[start + i] = self._fid(w[i], weighted)
        return out

    def _fid(self, w: np.ndarray, gram: np.ndarray) -> float:
        n, d = float(w @ self.counts), len(self.shift)
        distinct = int(self.counts[w > 0].sum())  # the rank of S* is at most distinct - 1
        offset = (w @ self.sums) / n
        trace = (w @ self.sqnorms - n * offset @ offset) / (n - 1)
        y_mean = offset if self.white is None else offset @ self.white
        cov = (gram - n * np.outer(y_mean, y_mean)) / (n - 1)
        mean = self.shift + offset
        if self.white is None:
            return frechet_distance(mean, cov, self.ref.mu, self.ref.sigma, n1=distinct, n2=self.ref.n)
        vals = eigvalsh(cov, self.device)
        diff = mean - self.ref.mu
        value = diff @ diff + trace + self.trace_ref - 2 * sum_sqrt_eigenvalues(vals, rank_deficient=distinct <= d)
        return max(float(value), 0.0)


class KernelUnits:
    """n x n kernels of centred features, for reweightings when n <= d.

    For row weights w (n* = sum w, m = Xc^T w / n*): |mean* - mu_ref|^2, Tr S* and the
    nonzero eigenvalues of S* sigma_ref, which are those of
    D^{1/2} (K - 1 k^T - k 1^T + q) D^{1/2} / (n* - 1) with K = Xc sigma_ref Xc^T,
    k = K w / n*, q = w^T K w / n*^2, D = diag(w).
    """

    def __init__(self, x: np.ndarray, ref: GaussianStats, unit_of_row: np.ndarray):
        x = np.asarray(x, np.float64)
        self.unit_of_row = unit_of_row
        centre = x.mean(axis=0)
        xc = x - centre
        self.gram = xc @ xc.T
        self.kernel = (xc @ np.asarray(ref.sigma, np.float64)) @ xc.T
        self.sqnorms = np.diag(self.gram).copy()
        self.h = xc @ (centre - np.asarray(ref.mu, np.float64))
        self.const = float((centre - ref.mu) @ (centre - ref.mu)) + float(np.trace(ref.sigma))

    def fids(self, weights: np.ndarray) -> np.ndarray:
        """FID of each reweighting (one row of cell weights each)."""
        return np.array([self._fid(np.asarray(w, np.float64)[self.unit_of_row]) for w in weights])

    def _fid(self, w: np.ndarray) -> float:
        n = w.sum()
        gw = self.gram @ w
        kw = self.kernel @ w / n
        keep = w > 0
        root = np.sqrt(w[keep])
        inner = self.kernel[np.ix_(keep, keep)] - kw[keep, None] - kw[None, keep] + (w @ kw) / n
        inner *= root[:, None] * root[None, :] / (n - 1)
        trace_sqrt = sum_sqrt_eigenvalues(np.linalg.eigvalsh((inner + inner.T) / 2), rank_deficient=True)
        mean_dist2_plus_trace_ref = self.const + 2 * (self.h @ w) / n + (w @ gw) / n**2
        trace = (w @ self.sqnorms - (w @ gw) / n) / (n - 1)
        return max(float(mean_dist2_plus_trace_ref + trace - 2 * trace_sqrt), 0.0)
