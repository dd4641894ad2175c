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


@pytest.mark.parametrize("n", [300, 40])  # N > 4d: Gram blocks, first-order; N <= d: n x n kernels
def test_the_ci_engine_on_a_torch_device_equals_numpy(n):
    from evalkit.metrics.functional.frechet_ci import CIPlan, GaussianStats, fid_interval

    rng = np.random.default_rng(n)
    d = 48
    ref = GaussianStats.of(rng.normal(size=(400, d)) @ rng.normal(size=(d, d)) * 0.2)
    z = rng.normal(size=(400, d))
    np.testing.assert_allclose(GaussianStats.of(z, device="cpu").sigma, GaussianStats.of(z).sigma, rtol=1e-10, atol=1e-13)
    x = rng.normal(size=(n, d)) + 0.1
    groups = np.arange(n) % 25
    for method in ("jackknife", "bootstrap", "linearized"):
        base = fid_interval(x, ref, CIPlan(method=method, replicates=10), groups)
        ours = fid_interval(x, ref, CIPlan(method=method, replicates=10, device="cpu"), groups)
        assert ours.value == pytest.approx(base.value, rel=1e-10)
        np.testing.assert_allclose(ours.replicates, base.replicates, rtol=1e-9)
        assert ours.std == pytest.approx(base.std, rel=1e-8)


def test_a_cuda_metric_takes_the_torch_path_and_a_cpu_one_does_not():
    from evalkit.metrics.fd import FD
    from evalkit.metrics.fid import FID

    assert FID(FID.Options(device="cuda:1")).torch_device() == "cuda:1"
    assert FID(FID.Options()).torch_device() is None
    assert FD(FD.Options.model_validate({"device": "cuda"})).torch_device() == "cuda"
