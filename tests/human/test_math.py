"""The pure math, against hand-computed and published values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evalkit.human.agreement import krippendorff_alpha
from evalkit.human.bradley_terry import bootstrap_davidson, counts, fit_davidson
from evalkit.human.stats import binomial_p, holm, wilson


def test_wilson_interval_matches_hand_computation():
    # p = 0.8, n = 10: centre (0.8 + z^2/20) / (1 + z^2/10) = 0.7167, half-width 0.2266
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)  # not the degenerate [0, 0]
    assert wilson(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
    assert all(math.isnan(x) for x in wilson(0, 0))


def _davidson_probs(pi, nu, a, b):
    d = pi[a] + pi[b] + nu * math.sqrt(pi[a] * pi[b])
    return pi[a] / d, nu * math.sqrt(pi[a] * pi[b]) / d, pi[b] / d


def test_davidson_two_models_closed_form():
    # For two models the MLE is exact: pi_1 / pi_2 = wins_1 / wins_2, nu = ties / sqrt(wins_1 wins_2)
    wins = np.array([[0, 30.0], [10.0, 0]])
    ties = np.array([[0, 20.0], [20.0, 0]])
    fit = fit_davidson(wins, ties)
    assert fit.strength[0] / fit.strength[1] == pytest.approx(3.0, rel=2e-3)
    assert fit.nu == pytest.approx(20 / math.sqrt(300), rel=2e-3)


def test_davidson_recovers_strengths_from_expected_counts():
    pi, nu = np.array([0.4, 0.3, 0.2, 0.1]), 0.5
    wins, ties = np.zeros((4, 4)), np.zeros((4, 4))
    for a in range(4):
        for b in range(a + 1, 4):
            pa, pt, pb = _davidson_probs(pi, nu, a, b)
            wins[a, b], wins[b, a], ties[a, b] = 1000 * pa, 1000 * pb, 1000 * pt
            ties[b, a] = ties[a, b]
    fit = fit_davidson(wins, ties)
    np.testing.assert_allclose(fit.strength, pi, atol=1e-3)
    assert fit.nu == pytest.approx(nu, rel=1e-3)


def test_davidson_bootstrap_from_sampled_votes():
    rng = np.random.default_rng(0)
    pi, nu = np.array([0.1, 0.5, 0.25, 0.15]), 0.4
    task, i, j, outcome = [], [], [], []
    for t in range(600):  # 600 tasks, 3 votes each, random pairs and sides
        a, b = rng.choice(4, 2, replace=False)
        pa, pt, pb = _davidson_probs(pi, nu, a, b)
        for _ in range(3):
            task.append(t), i.append(a), j.append(b)
            outcome.append(rng.choice(3, p=[pa, pt, pb]))
    task, i, j, outcome = map(np.asarray, (task, i, j, outcome))
    fit = fit_davidson(*counts(i, j, outcome, 4))
    assert list(np.argsort(-fit.strength)) == [1, 2, 3, 0]
    np.testing.assert_allclose(fit.strength, pi, atol=0.04)
    boot = bootstrap_davidson(task, i, j, outcome, 4, resamples=100, seed=1)
    low, high = np.percentile(boot, [2.5, 97.5], axis=0)
    assert np.all(low < fit.strength) and np.all(fit.strength < high)
    assert np.all(high - low < 0.15)
    # the truth lies within two CI half-widths of the estimate (~4 standard errors)
    assert np.all(np.abs(fit.strength - pi) <= high - low)


def test_davidson_undefeated_model_stays_finite():
    wins = np.array([[0, 10.0, 10.0], [0, 0, 5.0], [0, 5.0, 0]])
    fit = fit_davidson(wins, np.zeros((3, 3)))
    assert np.all(np.isfinite(fit.strength)) and fit.strength[0] > 0.9


def test_krippendorff_published_example():
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", 4 coders x 12 units
    n = np.nan
    data = np.array([[1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n],
                     [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3],
                     [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n],
                     [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n]])
    assert krippendorff_alpha(data, "nominal") == pytest.approx(0.743, abs=5e-4)
    assert krippendorff_alpha(data, "ordinal") == pytest.approx(0.815, abs=5e-4)
    assert krippendorff_alpha(data, "interval") == pytest.approx(0.849, abs=5e-4)


def test_krippendorff_hand_computed_and_edge_cases():
    # 2 raters, units (A,A) (A,B) (B,B) (tie,tie): D_o = 2, D_e = (64 - 9 - 9 - 4) / 7 = 6 -> 1 - 2/6
    data = np.array([[0, 0, 2, 1], [0, 2, 2, 1]], dtype=float)
    assert krippendorff_alpha(data, "nominal") == pytest.approx(2 / 3)
    assert krippendorff_alpha(np.array([[0, 1, 2], [0, 1, 2]], float), "ordinal") == pytest.approx(1.0)
    assert math.isnan(krippendorff_alpha(np.array([[0, np.nan], [np.nan, 1]])))  # nothing pairable
    assert math.isnan(krippendorff_alpha(np.full((2, 3), np.nan)))  # no data at all


def test_krippendorff_perfect_agreement_is_one_not_nan():
    # Everyone always answered the same (D_o = D_e = 0): no disagreement at all, so alpha = 1
    for metric in ("nominal", "ordinal", "interval"):
        assert krippendorff_alpha(np.zeros((3, 5)), metric) == 1.0
        assert krippendorff_alpha(np.array([[2, 2, np.nan], [2, 2, 2], [np.nan, 2, 2]]), metric) == 1.0
    # one disagreeing pair among agreeing units is below 1 (and defined)
    assert krippendorff_alpha(np.array([[0, 0, 0, 0], [0, 0, 0, 2]], float), "nominal") < 1.0


def test_krippendorff_matches_the_krippendorff_package():
    krippendorff = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(3)
    data = rng.integers(0, 3, size=(5, 40)).astype(float)
    data[:, :20] = data[0, :20]  # some agreement
    data[rng.random(data.shape) < 0.3] = np.nan
    for metric in ("nominal", "ordinal"):
        assert krippendorff_alpha(data, metric) == pytest.approx(
            krippendorff.alpha(reliability_data=data, level_of_measurement=metric), abs=1e-9)


def test_binomial_test_and_holm_adjustment():
    # two-sided exact test: 9 of 10 against 50% is 2 * (1 + 10 + 0) / 1024 ... = 22/1024
    assert binomial_p(9, 10) == pytest.approx(22 / 1024)
    assert binomial_p(5, 10) == pytest.approx(1.0) and math.isnan(binomial_p(0, 0))
    # Holm: sorted p (0.01, 0.02, 0.04) times (3, 2, 1), kept monotone; nan passes through
    assert holm([0.04, 0.01, float("nan"), 0.02]) == pytest.approx([0.04, 0.03, float("nan"), 0.04], nan_ok=True)
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])
