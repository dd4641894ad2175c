"""The torch (GPU-ready) Fréchet path equals the NumPy path; run on the CPU here, so CI
checks the code that a `device: cuda` metric runs."""

from __future__ import annotations

import numpy as np
import pytest

from evalkit.metrics.functional.frechet import frechet_distance, mean_and_cov
from evalkit.metrics.functional.frechet_torch import frechet_distance_torch, mean_and_cov_torch


@pytest.mark.parametrize("n1, n2, d", [(400, 500, 64), (30, 500, 64), (40, 50, 64)])
def test_torch_path_equals_numpy_path(n1, n2, d):
    rng = np.random.default_rng(n1 + n2)
    x1 = rng.normal(size=(n1, d)).astype(np.float32)
    x2 = (rng.normal(size=(n2, d)) @ rng.normal(size=(d, d)) * 0.3 + 0.2).astype(np.float32)
    mu1, s1 = mean_and_cov(x1)
    mu1t, s1t = mean_and_cov_torch(x1)
    np.testing.assert_allclose(mu1t, mu1, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(s1t, s1, rtol=1e-10, atol=1e-12)
    mu2, s2 = mean_and_cov(x2)
    ours = frechet_distance_torch(mu1, s1, mu2, s2, n1, n2)
    assert ours == pytest.approx(frechet_distance(mu1, s1, mu2, s2, n1, n2), rel=1e-9)


def test_singular_reference_falls_back_like_the_numpy_path():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 16))
    mu, s = mean_and_cov(x)
    singular = np.zeros_like(s)  # not positive definite: the Cholesky fails
    assert frechet_distance_torch(mu, s, mu, singular) == pytest.approx(frechet_distance(mu, s, mu, singular), rel=1e-9)
