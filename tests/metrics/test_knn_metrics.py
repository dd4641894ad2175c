"""kNN metrics against their reference implementations on features made here:
precision/recall vs torch-fidelity 0.4 `prc`, density/coverage vs the `prdc` package."""

import contextlib
import io

import numpy as np
import pytest
import torch
from prdc import compute_prdc
from torch_fidelity.metric_prc import calculate_precision_recall_full, calculate_precision_recall_part

from evalkit.metrics.functional.knn import density_coverage, knn_metrics, knn_radii, precision_recall
from evalkit.metrics.functional.sample_size import expected_perfect_coverage


def torch_fidelity_pr(gen, real, k=3):
    # The peer in float64 too: then both sides compare the same distances, and a tie at
    # a radius is a tie on both sides (torch.cdist's matrix-product path, like ours).
    return calculate_precision_recall_full(torch.from_numpy(gen), torch.from_numpy(real), k, 10000)


def prdc(gen, real, k=5):
    with contextlib.redirect_stdout(io.StringIO()):  # compute_prdc prints the sample counts
        out = compute_prdc(real_features=real, fake_features=gen, nearest_k=k)
    return out["density"], out["coverage"]


def features(seed, n_gen, n_real, dim, scale, shift):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n_gen, dim)) * scale + shift, rng.normal(size=(n_real, dim))


CASES = {  # seed, generated, real, dims, scale and shift of the generated samples
    "overlapping": (0, 300, 250, 16, 1.2, 0.3),
    "far-apart": (1, 200, 300, 8, 1.2, 1.5),
    "high-dim": (2, 400, 400, 256, 1.0, 0.02),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_precision_recall_equal_torch_fidelity(case):
    gen, real = features(*case)
    ours = precision_recall(gen, real, k=3)
    theirs = torch_fidelity_pr(gen, real, k=3)
    assert ours == pytest.approx(theirs, abs=1e-7)  # torch-fidelity returns float32 shares
    assert 0 < ours[0] < 1 and 0 < ours[1] < 1  # not a trivial all-or-nothing case


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_density_coverage_equal_prdc(case):
    gen, real = features(*case)
    ours = density_coverage(gen, real, k=5)
    theirs = prdc(gen, real, k=5)
    assert ours == pytest.approx(theirs, rel=1e-12)
    assert 0 < ours[1] < 1


@pytest.mark.parametrize("k", [1, 3, 5])
def test_ties_follow_each_peer(k):
    # Integer features on a small grid: many exact duplicates and equal distances, all
    # exact in float64, so <= (torch-fidelity) and < (prdc) give different answers.
    rng = np.random.default_rng(k)
    gen, real = rng.integers(0, 4, size=(150, 3)).astype(float), rng.integers(0, 4, size=(130, 3)).astype(float)
    assert precision_recall(gen, real, k) == pytest.approx(torch_fidelity_pr(gen, real, k), abs=1e-7)
    assert density_coverage(gen, real, k) == pytest.approx(prdc(gen, real, k), rel=1e-12)


def test_torch_fidelity_batched_path_agrees_too():
    gen, real = features(*CASES["overlapping"])
    part = calculate_precision_recall_part(torch.from_numpy(gen), torch.from_numpy(real), 3, 64)
    assert precision_recall(gen, real) == pytest.approx(part, abs=1e-7)


def test_chunking_does_not_change_results():
    gen, real = features(*CASES["overlapping"])
    whole = knn_metrics(gen, real, chunk_bytes=2**30)
    row_by_row = knn_metrics(gen, real, chunk_bytes=1)  # one row per chunk
    assert whole == row_by_row
    assert (whole.precision, whole.recall) == precision_recall(gen, real)
    assert (whole.density, whole.coverage) == density_coverage(gen, real)


def test_radii_are_kth_neighbour_distances_with_self_as_zeroth():
    x = np.random.default_rng(4).normal(size=(50, 5))
    dist = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    expected = np.sort(dist, axis=1)[:, [1, 3]].T ** 2  # column 0 is the sample itself
    np.testing.assert_allclose(knn_radii(x, (1, 3)), expected, rtol=1e-10)


def test_identical_distributions_match_naeem_et_al_expectations():
    # Naeem et al. 2020: for one distribution, E[density] = 1 and
    # E[coverage] = 1 - prod_{i=1..k} (N - i) / (N + M - i), whatever the distribution.
    # 200 trials of N = M = 100, k = 5: sd of the mean coverage ~0.002, of density ~0.01.
    rng = np.random.default_rng(5)
    runs = np.array([density_coverage(rng.normal(size=(100, 4)), rng.normal(size=(100, 4)), k=5) for _ in range(200)])
    assert runs[:, 0].mean() == pytest.approx(1.0, abs=0.04)
    assert runs[:, 1].mean() == pytest.approx(expected_perfect_coverage(100, 100, 5), abs=0.008)


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="k = 5 needs at least 6 samples, got 4"):
        density_coverage(np.zeros((10, 2)), np.random.default_rng(0).normal(size=(4, 2)), k=5)
    with pytest.raises(ValueError, match="feature dims differ: generated 3, real 2"):
        knn_metrics(np.zeros((10, 3)), np.zeros((10, 2)))
