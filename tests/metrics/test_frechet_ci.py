"""FID confidence intervals from sufficient statistics, against brute force and ground truth.

Brute force: frechet_distance_to_stats on the resampled / reduced rows (bootstrap_std is
today's image-level bootstrap). Ground truth: the spread of FID over fresh datasets.
"""

import numpy as np
import pytest

from evalkit.metrics.functional import frechet_ci
from evalkit.metrics.functional.frechet import bootstrap_std, frechet_distance_to_stats
from evalkit.metrics.functional.frechet_ci import CIPlan, GaussianStats, IntervalEstimate, fid_interval, paired_fid_interval
from evalkit.metrics.functional.paired import unit_index


def brute_fid(x, ref, rows):
    return frechet_distance_to_stats(x[rows], ref.mu, ref.sigma, n_ref=ref.n)


def drawn(x, plan, groups=None):
    """The cells and bootstrap weights _estimate draws (same seed, same order)."""
    rng = np.random.default_rng(plan.seed)
    cells, n_cells = frechet_ci._cells(unit_index(groups, len(x)), x.shape, plan, rng)
    return cells, rng.multinomial(n_cells, np.full(n_cells, 1 / n_cells), size=plan.replicates)


@pytest.fixture(scope="module")
def ref16():
    return GaussianStats.of(np.random.default_rng(0).normal(size=(5000, 16)))


PATHS = {"kernel-n<=d": (12, 5000), "gram-whitened": (40, 5000), "gram-singular-reference": (40, 10)}


@pytest.mark.parametrize("n, n_ref", PATHS.values(), ids=PATHS.keys())
def test_bootstrap_with_one_unit_per_cell_is_exactly_the_image_level_bootstrap(n, n_ref):
    rng = np.random.default_rng(n + n_ref)
    ref = GaussianStats.of(rng.normal(size=(n_ref, 16)))
    x = rng.normal(size=(n, 16)) * 1.1 + 0.1
    plan = CIPlan("bootstrap", replicates=6, blocks=1000, seed=3)
    result = fid_interval(x, ref, plan)
    cells, weights = drawn(x, plan)
    brute = [brute_fid(x, ref, np.repeat(np.arange(n), w[cells])) for w in weights]
    assert result.value == pytest.approx(brute_fid(x, ref, np.arange(n)), rel=1e-10)
    np.testing.assert_allclose(result.replicates, brute, rtol=1e-10)


@pytest.mark.parametrize("n, n_ref", PATHS.values(), ids=PATHS.keys())
def test_jackknife_replicates_are_fids_without_each_group(n, n_ref):
    rng = np.random.default_rng(n * n_ref)
    ref = GaussianStats.of(rng.normal(size=(n_ref, 16)))
    x = rng.normal(size=(n, 16)) * 0.9
    plan = CIPlan(replicates=5, seed=4)
    result = fid_interval(x, ref, plan)
    cells, _ = drawn(x, plan)
    brute = np.array([brute_fid(x, ref, np.flatnonzero(cells != g)) for g in range(5)])
    np.testing.assert_allclose(result.replicates, brute, rtol=1e-10)
    assert result.std == pytest.approx(np.sqrt(4 / 5 * np.sum((brute - brute.mean()) ** 2)), rel=1e-10)
    assert result.dof == 4


@pytest.mark.parametrize("n", [10, 60], ids=["kernel-path", "gram-path"])
def test_groups_move_together(ref16, n):
    rng = np.random.default_rng(n)
    x = rng.normal(size=(n, 16))
    groups = np.repeat([f"prompt-{i}" for i in range(n // 2)], 2)  # two seeds per prompt
    plan = CIPlan("bootstrap", replicates=4, blocks=1000, seed=5)
    result = fid_interval(x, ref16, plan, groups=groups)
    cells, weights = drawn(x, plan, groups)
    brute = [brute_fid(x, ref16, np.repeat(np.arange(n), w[cells])) for w in weights]
    np.testing.assert_allclose(result.replicates, brute, rtol=1e-10)
    jack_cells, _ = drawn(x, CIPlan(replicates=7), groups)
    assert all(len(set(jack_cells[groups == g])) == 1 for g in set(groups))  # a prompt never splits


def test_value_equals_fid_at_higher_dims():
    rng = np.random.default_rng(7)
    ref = GaussianStats.of(rng.normal(size=(3000, 256)) @ rng.normal(size=(256, 256)) / 16)
    x = (rng.normal(size=(1500, 256)) @ rng.normal(size=(256, 256)) / 16 + 0.05).astype(np.float32)
    result = fid_interval(x, ref, CIPlan(replicates=3))
    assert result.value == pytest.approx(frechet_distance_to_stats(x, ref.mu, ref.sigma), rel=1e-10)


# Block bootstrap vs brute-force bootstrap, same data. Noise budget (relative sd of a
# bootstrap std): brute force with R = 2000, 1/sqrt(2 R) = 1.6%; one partition into B = 50
# blocks, 1/sqrt(2 (B - 1)) = 10% plus 3.2% for its R = 500 draws, so 1.7% for the mean
# over 40 partitions; 2.3% together, plus the known (B - 1)/B variance shrink, -1%.
# Tolerance 8% (> 3 sd). At d = 8 the duplicate artefact (see below) is small.
@pytest.mark.parametrize("paired", [False, True], ids=["single-run", "paired"])
def test_block_bootstrap_std_matches_brute_force(paired):
    rng = np.random.default_rng(17)
    ref = GaussianStats.of(rng.normal(size=(20000, 8)))
    shared = rng.normal(size=(1000, 8))
    x_a, x_b = shared + 0.4 * rng.normal(size=(1000, 8)) + 0.15, shared * 1.1 + 0.4 * rng.normal(size=(1000, 8))
    if paired:
        brute = bootstrap_std(lambda rows: brute_fid(x_a, ref, rows) - brute_fid(x_b, ref, rows), 1000, 2000, seed=1)
        ours = [paired_fid_interval(x_a, x_b, ref, plan=CIPlan("bootstrap", 250, 50, s)).std for s in range(40)]
    else:
        brute = bootstrap_std(lambda rows: brute_fid(x_a, ref, rows), 1000, 2000, seed=1)
        ours = [fid_interval(x_a, ref, CIPlan("bootstrap", 500, 50, s)).std for s in range(40)]
    assert np.mean(ours) == pytest.approx(brute, rel=0.08)


def true_and_estimated_std(d, n, shift, fresh, estimate, seed):
    rng = np.random.default_rng(seed)
    ref = GaussianStats(np.zeros(d), np.eye(d))
    sets = [rng.normal(size=(n, d)) * (1 + shift) + shift for _ in range(fresh)]
    true_std = np.std([frechet_distance_to_stats(x, ref.mu, ref.sigma) for x in sets])
    return true_std, [estimate(x, ref, i) for i, x in enumerate(sets[:20])]


# Ground truth: the std of FID over `fresh` datasets (relative sd 1/sqrt(2 fresh)).
def test_jackknife_std_matches_the_true_sampling_std_at_low_dim():
    # 300 fresh sets (4%); mean jackknife std over 20 sets (each 1/sqrt(2·19) = 16%: 3.6%).
    true_std, jack = true_and_estimated_std(8, 1000, 0.15, 300, lambda x, ref, i: fid_interval(x, ref, CIPlan(seed=i)).std, 23)
    assert np.mean(jack) / true_std == pytest.approx(1.0, rel=0.15)


@pytest.mark.slow
def test_jackknife_stays_calibrated_where_the_bootstrap_does_not():
    # 32-d, N = 128 (d^2 / N^1.5 = 0.7): duplicated images' self-products dominate the
    # image-level bootstrap's spread (~2.4x the truth); the jackknife drops images and
    # never duplicates them (within 1.5x: the delete-a-group jackknife errs upward,
    # Efron-Stein). 200 fresh sets: 5%; 20 jackknives: 3.6%; 20 bootstraps of 100: 1.6%.
    def both(x, ref, i):
        return fid_interval(x, ref, CIPlan(seed=i)).std, bootstrap_std(lambda r: brute_fid(x, ref, r), 128, 100, seed=i)

    true_std, stds = true_and_estimated_std(32, 128, 0.1, 200, both, 31)
    jack, boot = np.mean(stds, axis=0) / true_std
    assert 0.9 < jack < 1.5
    assert boot > 1.8


def test_paired_replicates_use_the_same_rows_in_both_runs(ref16):
    rng = np.random.default_rng(13)
    shared = rng.normal(size=(50, 16))
    x_a, x_b = shared + 0.3 * rng.normal(size=(50, 16)), shared + 0.3 * rng.normal(size=(50, 16)) + 0.1
    for plan in (CIPlan("bootstrap", 5, 1000, seed=2), CIPlan(replicates=5, seed=2)):
        result = paired_fid_interval(x_a, x_b, ref16, plan=plan)
        cells, weights = drawn(x_a, plan)
        if plan.method == "jackknife":
            weights = 1 - np.eye(5, dtype=int)
        for w, got in zip(weights, result.replicates):
            rows = np.repeat(np.arange(50), w[cells])
            assert got == pytest.approx(brute_fid(x_a, ref16, rows) - brute_fid(x_b, ref16, rows), rel=1e-9)
    full = np.arange(50)
    assert result.value == pytest.approx(brute_fid(x_a, ref16, full) - brute_fid(x_b, ref16, full), rel=1e-12)


def test_identical_runs_have_zero_delta_and_p_value_one(ref16):
    x = np.random.default_rng(19).normal(size=(300, 16))
    result = paired_fid_interval(x, x.copy(), ref16)
    assert result.value == 0 and result.std == 0 and result.p_value() == 1.0


def test_interval_and_p_value_are_dual():
    result = IntervalEstimate(2.0, np.zeros(20), std=0.5, dof=19.0)
    low, high = result.interval(0.95)
    assert low < 2.0 < high
    assert result.p_value(null=low) == pytest.approx(0.05)  # the CI's edge is where p = 1 - level
    assert result.p_value(null=high) == pytest.approx(0.05)
    assert (high - 2.0) / 0.5 > 1.96  # Student t with 19 dof is wider than the normal


def test_bootstrap_dof_counts_draws_and_cells(ref16):
    x = np.random.default_rng(3).normal(size=(400, 16))
    result = fid_interval(x, ref16, CIPlan("bootstrap", replicates=20, blocks=50))
    assert result.dof == pytest.approx(1 / (1 / 19 + 1 / 49))


def test_bad_input_is_a_clear_error(ref16):
    x = np.zeros((30, 16))
    with pytest.raises(ValueError, match="at least 2 replicates"):
        fid_interval(x, ref16, CIPlan(replicates=1))
    with pytest.raises(ValueError, match="unknown CI method 'percentile'"):
        fid_interval(x, ref16, CIPlan(method="percentile"))
    with pytest.raises(ValueError, match="groups has 29 labels for 30 rows"):
        fid_interval(x, ref16, groups=np.arange(29))
    with pytest.raises(ValueError, match="aligned rows"):
        paired_fid_interval(x, x[:20], ref16)
