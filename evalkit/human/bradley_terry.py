"""Bradley–Terry with ties: Davidson's (1970) model, pure numpy.

    P(i beats j) = pi_i / D,  P(tie) = nu * sqrt(pi_i pi_j) / D,  D = pi_i + pi_j + nu * sqrt(pi_i pi_j)

A tie counts as half a win for each side, which is what "I am indifferent" means; nu > 0
measures how often raters are indifferent. Fitted by maximum likelihood with Newton's method
(analytic gradient and Hessian, backtracking line search) on the sufficient statistics (win
and tie counts per pair) over theta = log pi and log nu; the log-likelihood is concave there,
so Newton converges in a handful of steps. A tiny ridge (RIDGE * sum theta^2) pins the scale
(sum theta ~ 0) and keeps an undefeated model's strength finite; with no ties at all nu is
fixed at ~0. Strengths are reported as pi / sum(pi).
Bootstrap CIs resample tasks (all votes on a task together), since one task's raters share
the same images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RIDGE = 1e-3
NO_TIES_LOG_NU = -50.0
# u = (theta_a, theta_b, log nu + (theta_a + theta_b) / 2) as a linear map of x = (theta_a, theta_b, log nu)
_A = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.5, 1.0]])


@dataclass(frozen=True)
class BTFit:
    strength: np.ndarray  # pi normalised to sum 1, in the input model order
    nu: float             # tie parameter
    loglik: float
    iterations: int


def counts(i: np.ndarray, j: np.ndarray, outcome: np.ndarray, k: int, weight: np.ndarray | None = None):
    """Win matrix W[a, b] (a beat b) and symmetric tie matrix T from comparisons (i vs j,
    outcome 0: i won, 1: tie, 2: j won)."""
    weight = np.ones(len(i)) if weight is None else weight
    wins, ties = np.zeros((k, k)), np.zeros((k, k))
    np.add.at(wins, (i[outcome == 0], j[outcome == 0]), weight[outcome == 0])
    np.add.at(wins, (j[outcome == 2], i[outcome == 2]), weight[outcome == 2])
    tie = outcome == 1
    np.add.at(ties, (i[tie], j[tie]), weight[tie])
    np.add.at(ties, (j[tie], i[tie]), weight[tie])
    return wins, ties


class _Objective:
    """Penalised negative log-likelihood with its gradient and Hessian over x = (theta, log nu)."""

    def __init__(self, wins: np.ndarray, ties: np.ndarray):
        k = wins.shape[0]
        a, b = np.triu_indices(k, 1)
        n = wins[a, b] + wins[b, a] + ties[a, b]
        keep = n > 0
        self.k, self.a, self.b, self.n = k, a[keep], b[keep], n[keep]
        self.y = np.stack([wins[a, b], wins[b, a], ties[a, b]], axis=1)[keep]  # counts per outcome of u
        self.idx = np.stack([self.a, self.b, np.full(len(self.a), k)], axis=1)

    def value(self, x: np.ndarray) -> float:
        u = self._u(x)
        top = u.max(axis=1, keepdims=True)
        log_d = (top + np.log(np.exp(u - top).sum(axis=1, keepdims=True)))[:, 0]
        ll = np.sum(self.y * u) - np.sum(self.n * log_d)
        return -ll + RIDGE * np.sum(x[: self.k] ** 2)

    def derivatives(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u = self._u(x)
        p = np.exp(u - u.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        g_u = self.n[:, None] * p - self.y                          # d(-ll)/du per pair
        h_u = self.n[:, None, None] * (np.einsum("pi,ij->pij", p, np.eye(3)) - p[:, :, None] * p[:, None, :])
        grad, hess = np.zeros(self.k + 1), np.zeros((self.k + 1, self.k + 1))
        np.add.at(grad, self.idx, g_u @ _A)
        blocks = _A.T @ h_u @ _A
        for r in range(3):
            for c in range(3):
                np.add.at(hess, (self.idx[:, r], self.idx[:, c]), blocks[:, r, c])
        grad[: self.k] += 2 * RIDGE * x[: self.k]
        hess[np.arange(self.k), np.arange(self.k)] += 2 * RIDGE
        return grad, hess

    def _u(self, x: np.ndarray) -> np.ndarray:
        return np.stack([x[self.a], x[self.b], x[self.k] + (x[self.a] + x[self.b]) / 2], axis=1)


def fit_davidson(wins: np.ndarray, ties: np.ndarray, start: np.ndarray | None = None,
                 tol: float = 1e-9, max_iter: int = 200) -> BTFit:
    """Maximum-likelihood Davidson strengths from win/tie count matrices (Newton's method)."""
    k = wins.shape[0]
    obj = _Objective(wins, ties)
    free = np.arange(k + 1) if ties.sum() > 0 else np.arange(k)  # no ties: nu stays ~0
    x = np.zeros(k + 1) if start is None else np.array(start, dtype=float)
    if ties.sum() == 0:
        x[k] = NO_TIES_LOG_NU
    f = obj.value(x)
    it = 0
    for it in range(1, max_iter + 1):
        grad, hess = obj.derivatives(x)
        g, h = grad[free], hess[np.ix_(free, free)]
        step = -np.linalg.solve(h + 1e-12 * np.eye(len(free)), g)
        if np.abs(g).max() < tol or -(g @ step) < tol * max(1.0, abs(f)):  # Newton decrement: converged
            break
        if (norm := np.abs(step).max()) > 5:  # keep early steps from far starts sane
            step *= 5 / norm
        size = 1.0
        while True:  # backtracking (Armijo) line search
            trial = x.copy()
            trial[free] += size * step
            f_trial = obj.value(trial)
            if f_trial <= f + 1e-4 * size * (g @ step) or size < 1e-10:
                break
            size /= 2
        if size < 1e-10:  # no further decrease possible in floating point
            break
        x, f = trial, f_trial
    theta = x[:k] - x[:k].max()
    pi = np.exp(theta)
    nu = 0.0 if ties.sum() == 0 else float(np.exp(x[k]))
    return BTFit(pi / pi.sum(), nu, float(-(f - RIDGE * np.sum(x[:k] ** 2))), it)


def bootstrap_davidson(task: np.ndarray, i: np.ndarray, j: np.ndarray, outcome: np.ndarray, k: int,
                       resamples: int, seed: int) -> np.ndarray:
    """Strengths refitted on `resamples` resamples of the tasks: array (resamples, k)."""
    rng = np.random.default_rng(seed)
    tasks, inverse = np.unique(task, return_inverse=True)
    base = fit_davidson(*counts(i, j, outcome, k))
    start = np.concatenate([np.log(base.strength), [np.log(base.nu) if base.nu > 0 else NO_TIES_LOG_NU]])
    out = np.empty((resamples, k))
    for r in range(resamples):
        picks = np.bincount(rng.integers(0, len(tasks), len(tasks)), minlength=len(tasks)).astype(float)
        out[r] = fit_davidson(*counts(i, j, outcome, k, picks[inverse]), start=start).strength
    return out
