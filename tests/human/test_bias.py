"""Analysis that catches raters rather than models: side bias, side balance, speed, and the
empty study; on votes stored through the real queue (secret, balanced side orders)."""

from __future__ import annotations

import math

import pytest

from evalkit.human.analysis import AnalysisOptions
from evalkit.human.bias import side_choices
from evalkit.human.report import analyze_db, format_text, render_result_html
from evalkit.human.study import create_study

from .conftest import make_run
from .test_analysis import _simulate


@pytest.fixture
def big_runs(tmp_path):
    prompts = [(f"p-{n:03d}", f"prompt {n}", f"cat-{n % 3}") for n in range(24)]
    return [make_run(tmp_path / "runs", m, prompts=prompts, images=1, size=16) for m in ("model-a", "model-b")]


def _overall(result, question="quality"):
    return next(r for r in result["preferences"] if r["question"] == question and r["category"] == "all")


def test_side_biased_raters_are_flagged_and_make_no_preference(target, big_runs):
    # 4 views per task, balanced 2 and 2: raters who always pick the left set give each model 50%
    create_study(target, big_runs, "bias", ratings_per_task=4, control_rate=0.1)
    _simulate(target, ["left-1", "left-2", "left-3", "left-4"], lambda view, rng: "A")
    result = analyze_db(target, options=AnalysisOptions(resamples=0))
    overall = _overall(result)
    assert overall["n"] == 96 and overall["a_rate"] == 0.5 and overall["a_low"] < 0.5 < overall["a_high"]
    for bias in result["side_bias"]:
        assert bias["overall"]["left_rate"] == 1.0 and bias["overall"]["p_value"] < 1e-6
        assert [r["rater_id"] for r in bias["raters"] if r["flagged"]] == ["left-1", "left-2", "left-3", "left-4"]
    balance = result["side_balance"]
    assert balance["unbalanced"] == [] and balance["max_imbalance"] == 0 and balance["a_left_share"] == 0.5
    text = format_text(result)
    assert "side-biased: left-1 left 24/24" in text and "4 of 0" not in text


def test_honest_raters_are_not_flagged_and_the_better_model_wins(target, big_runs):
    create_study(target, big_runs, "fair", ratings_per_task=3, control_rate=0.1)

    def prefer(view, rng):  # model-a is better 80% of the time, sides do not matter
        return "model-a" if rng.random() < 0.8 else "model-b"

    _simulate(target, ["r1", "r2", "r3"], prefer, seed=4)
    result = analyze_db(target, options=AnalysisOptions(resamples=0))
    assert _overall(result)["a_low"] > 0.6  # a real preference survives the balancing


def test_side_choices_are_flagged_by_holm_adjusted_exact_tests():
    import pandas as pd
    from scipy.stats import binomtest

    counts = {"even": (10, 10, 3), "leans": (14, 6, 0), "left": (20, 0, 0)}  # (left, right, ties)
    rows = [{"rater_id": r, "kind": "regular", "quality": answer}
            for r, (left, right, ties) in counts.items()
            for answer, k in (("A", left), ("B", right), ("tie", ties)) for _ in range(k)]
    rows.append({"rater_id": "left", "kind": "control", "quality": "B"})  # controls do not count
    bias = side_choices(pd.DataFrame(rows), "quality")
    by_rater = {r["rater_id"]: r for r in bias["raters"]}
    raw = {r: binomtest(left, left + right).pvalue for r, (left, right, _) in counts.items()}
    order = sorted(raw, key=raw.get)  # Holm: smallest p times 3, then times 2, then times 1, kept monotone
    expected = {order[0]: 3 * raw[order[0]], order[1]: max(3 * raw[order[0]], 2 * raw[order[1]])}
    expected[order[2]] = min(1.0, max(expected[order[1]], raw[order[2]]))
    for rater, (left, right, ties) in counts.items():
        row = by_rater[rater]
        assert (row["left"], row["right"], row["ties"], row["decided"]) == (left, right, ties, left + right)
        assert row["p_value"] == pytest.approx(raw[rater]) and row["p_adjusted"] == pytest.approx(expected[rater])
    assert [r for r in by_rater if by_rater[r]["flagged"]] == ["left"]  # 14/20 is not enough after adjustment
    assert bias["overall"]["left"] == 44 and bias["overall"]["decided"] == 60


def test_fast_raters_are_flagged(target, big_runs):
    create_study(target, big_runs, "fast", ratings_per_task=2, control_rate=0)
    _simulate(target, ["quick"], lambda view, rng: "tie", seconds=0.5)  # 0.5 s from shown to submitted
    _simulate(target, ["careful"], lambda view, rng: "tie", seconds=20.0)
    result = analyze_db(target, options=AnalysisOptions(resamples=0, min_seconds=3))
    speed = result["speed"]["raters"]
    assert [(r["rater_id"], r["flagged"]) for r in speed] == [("careful", False), ("quick", True)]
    assert (speed[0]["median_seconds"], speed[1]["median_seconds"]) == pytest.approx((20.0, 0.5))
    relaxed = analyze_db(target, options=AnalysisOptions(resamples=0, min_seconds=0.4))
    assert not any(r["flagged"] for r in relaxed["speed"]["raters"])
    assert "too fast (median under 3 s per task): quick (0.5 s)" in format_text(result)


def test_perfect_agreement_gives_alpha_one(target, big_runs):
    create_study(target, big_runs, "agree", ratings_per_task=3, control_rate=0)
    _simulate(target, ["r1", "r2", "r3"], lambda view, rng: "model-a")
    agreement = analyze_db(target, options=AnalysisOptions(resamples=0))["agreement"]
    assert [(a["ordinal"], a["nominal"], a["units"]) for a in agreement] == [(1.0, 1.0, 24)] * 2


def test_an_empty_study_analyses_to_an_empty_explained_result(target, big_runs):
    create_study(target, big_runs, "empty", ratings_per_task=3)
    result = analyze_db(target)
    assert result["votes"] == 0 and result["preferences"] == [] and result["bradley_terry"] == []
    assert result["note"].startswith("no votes yet")
    assert all(math.isnan(a["ordinal"]) and a["units"] == 0 for a in result["agreement"])
    assert result["side_balance"]["tasks"] == 0 and result["speed"]["raters"] == []
    assert "no votes yet" in format_text(result)
    html = render_result_html(result)
    assert "no votes yet" in html and "<img" not in html
