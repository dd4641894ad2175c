"""Paired per-sample deltas: prompt means, a prompt bootstrap CI, an exact sign-flip p-value."""

import itertools

import numpy as np
import pytest

from evalkit.metrics.functional.paired import paired_mean_delta, unit_index, unit_means


def test_delta_is_the_mean_of_per_prompt_mean_differences():
    groups = np.array(["b", "a", "b", "c", "a", "c", "c"])
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0])
    b = np.zeros(7)
    result = paired_mean_delta(a, b, groups)
    by_hand = np.mean([(2 + 5) / 2, (1 + 3) / 2, (4 + 6 + 8) / 3])  # prompts a, b, c
    assert result.delta == pytest.approx(by_hand) and result.units == 3


def test_p_value_is_the_exact_sign_flip_test_for_few_prompts():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(10), 3)
    a, b = rng.normal(size=30) + 0.4, rng.normal(size=30)
    deltas = unit_means(a, unit_index(groups, 30)) - unit_means(b, unit_index(groups, 30))
    flips = np.array(list(itertools.product([1, -1], repeat=10)))  # all 1024 sign patterns
    exact = np.mean(np.abs((flips * deltas).mean(axis=1)) >= abs(deltas.mean()) - 1e-12)
    assert paired_mean_delta(a, b, groups).p_value == pytest.approx(exact, rel=1e-12)


def test_ci_is_the_prompt_bootstrap_percentile_interval():
    rng = np.random.default_rng(1)
    a = rng.normal(size=400) + 0.1
    b = a - 0.2 + rng.normal(size=400) * 0.05  # strongly paired: a tiny spread of deltas
    result = paired_mean_delta(a, b)
    deltas = a - b
    boot = deltas[np.random.default_rng(0).integers(0, 400, size=(2000, 400))].mean(axis=1)
    assert (result.low, result.high) == pytest.approx(tuple(np.quantile(boot, [0.025, 0.975])), rel=1e-12)
    assert result.low < 0.2 < result.high and result.p_value < 1e-3


def test_pairing_beats_overlapping_cis_on_shared_prompt_effects():
    # Prompt difficulty dominates the spread, so each run's own CI is wide, but it cancels
    # in the per-prompt differences: a 0.1 drop is significant when paired.
    rng = np.random.default_rng(2)
    difficulty = rng.normal(size=300) * 3
    a = difficulty + rng.normal(size=300) * 0.2
    b = difficulty - 0.1 + rng.normal(size=300) * 0.2
    result = paired_mean_delta(b, a)
    assert result.delta < 0 and result.p_value < 0.01 and result.high < 0


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="aligned 1-d rows"):
        paired_mean_delta(np.zeros(5), np.zeros(4))
    with pytest.raises(ValueError, match="at least 2 prompts"):
        paired_mean_delta(np.zeros(3), np.zeros(3), groups=["p"] * 3)
