"""Analysis of votes: hand-counted rates, control filtering, a full study simulated through
the storage layer, HTML section and export."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from evalkit.human import db
from evalkit.human.analysis import AnalysisOptions, analyze_votes, control_accuracy, preference_rates
from evalkit.human.export import VOTE_COLUMNS, votes_frame, write_votes
from evalkit.human.queue import next_assignment
from evalkit.human.report import analyze_db, format_text, render_analysis_html
from evalkit.human.stats import wilson
from evalkit.human.study import create_study
from evalkit.human.votes import submit_vote


def _vote(task_id, rater, winner, category="Colors", left="m1", right="m2", control=None):
    """One row of the votes table; `control` = (answer given, right answer)."""
    on_screen = {left: "A", right: "B", "tie": "tie"}
    run_a, run_b = sorted((left, right))
    row = {"task_id": task_id, "rater_id": rater, "category": category, "left_run": left, "right_run": right,
           "run_a": run_a, "run_b": run_b, "a_left": left == run_a, "kind": "control" if control else "regular",
           "is_control": control is not None, "control_correct": pd.NA, "seconds": 10.0}
    if control:
        row.update(quality=control[0], alignment="tie", quality_winner=None, alignment_winner=None,
                   control_correct=int(control[0] == control[1]))
    else:
        row.update(quality=on_screen[winner], alignment=on_screen[winner], quality_winner=winner,
                   alignment_winner=winner)
    return row


def test_rates_per_category_match_hand_counts():
    rows = [_vote(n, f"r{n % 3}", w, "Colors", *(("m1", "m2") if n % 2 else ("m2", "m1")))
            for n, w in enumerate(["m1"] * 6 + ["tie"] * 2 + ["m2"] * 2)]
    rows += [_vote(100 + n, "r0", w, "Text") for n, w in enumerate(["m1"] + ["tie"] + ["m2"] * 8)]
    rates = preference_rates(pd.DataFrame(rows), ["m1", "m2"], "quality")
    by_cat = {r["category"]: r for r in rates}
    assert by_cat["Colors"]["n"] == 10 and (by_cat["Colors"]["a_rate"], by_cat["Colors"]["tie_rate"],
                                            by_cat["Colors"]["b_rate"]) == (0.6, 0.2, 0.2)
    assert (by_cat["Text"]["a_count"], by_cat["Text"]["tie_count"], by_cat["Text"]["b_count"]) == (1, 1, 8)
    assert by_cat["all"]["n"] == 20 and by_cat["all"]["a_rate"] == 7 / 20 and by_cat["all"]["b_rate"] == 10 / 20
    assert (by_cat["all"]["a_low"], by_cat["all"]["a_high"]) == pytest.approx(wilson(7, 20))
    assert (by_cat["Text"]["b_low"], by_cat["Text"]["b_high"]) == pytest.approx(wilson(8, 10))
    # swapping which model is named first mirrors the rates
    flipped = {r["category"]: r for r in preference_rates(pd.DataFrame(rows), ["m2", "m1"], "quality")}
    assert flipped["all"]["a_rate"] == 10 / 20 and flipped["all"]["b_rate"] == 7 / 20


def test_unreliable_raters_are_dropped():
    rows = [_vote(n, r, "m1") for n in range(4) for r in ("good", "bad")]
    rows += [_vote(50 + n, "good", None, control=(("A", "A") if n < 3 else ("B", "A"))) for n in range(4)]
    rows += [_vote(60 + n, "bad", None, control=(("A", "A") if n < 1 else ("B", "A"))) for n in range(4)]
    rows += [_vote(n, "new", "m2") for n in range(4)]  # no control answered yet: kept
    votes = pd.DataFrame(rows)
    acc = {a["rater_id"]: a for a in control_accuracy(votes)}
    assert (acc["good"]["correct"], acc["good"]["controls"], acc["bad"]["accuracy"]) == (3, 4, 0.25)
    assert (acc["good"]["ci_low"], acc["good"]["ci_high"]) == pytest.approx(wilson(3, 4))
    result = analyze_votes(votes, ["m1", "m2"], AnalysisOptions(min_control_accuracy=0.5))
    assert result["raters_dropped"] == ["bad"]
    overall = next(r for r in result["preferences"] if r["question"] == "quality" and r["category"] == "all")
    assert overall["n"] == 8 and overall["a_rate"] == 0.5  # good's 4 for m1, new's 4 for m2
    everyone = analyze_votes(votes, ["m1", "m2"])
    assert next(r for r in everyone["preferences"] if r["category"] == "all")["n"] == 12


def _simulate(path, raters, prefer, controls_right=True, seed=0, seconds=None):
    """Raters vote through the storage layer; `prefer(view, rng)` gives the winning run, 'tie', or
    an on-screen side ("A"/"B": a rater who looks at sides, not images). With `seconds`, each
    vote comes that long after its task was shown (a simulated clock)."""
    rng = np.random.default_rng(seed)
    clock = itertools.count(1e9, seconds) if seconds else None
    with db.connect(path) as store:
        study = db.get_study(store)
        for rater in raters:
            while (view := next_assignment(store, study, rater, now=next(clock) if clock else None)) is not None:
                if view.task.kind != "regular":
                    right = view.right_answer
                    given = right if controls_right else ("B" if right == "A" else "A")
                    q, a = (given, "tie") if view.task.control_answer["question"] == "quality" else ("tie", given)
                else:
                    side = {view.left_run: "A", view.right_run: "B", "tie": "tie", "A": "A", "B": "B"}
                    q, a = side[prefer(view, rng)], side[prefer(view, rng)]
                submit_vote(store, study, view.token, q, a, rater, now=next(clock) if clock else None)


def test_full_study_recovers_known_preferences(tmp_path, runs):
    path = tmp_path / "s.sqlite"
    create_study(path, runs, "abc", ratings_per_task=3, control_rate=0.2, images_per_side=2)
    order = {"model-a": 3, "model-b": 2, "model-c": 1}

    def prefer(view, rng):  # the better model always wins quality ... and alignment
        return max(view.left_run, view.right_run, key=order.get)

    _simulate(path, ["r1", "r2", "r3"], prefer)
    result = analyze_db(path, options=AnalysisOptions(resamples=50))
    ab = next(r for r in result["preferences"] if r["question"] == "quality" and r["category"] == "all"
              and (r["model_a"], r["model_b"]) == ("model-a", "model-b"))
    assert (ab["n"], ab["a_rate"], ab["tie_rate"], ab["b_rate"]) == (18, 1.0, 0.0, 0.0)  # 6 prompts x 3 raters
    for bt in result["bradley_terry"]:
        assert [m["model"] for m in bt["ranking"]] == ["model-a", "model-b", "model-c"]
        assert bt["tie_parameter"] == 0.0
    for ag in result["agreement"]:
        assert ag["ordinal"] == pytest.approx(1.0) and ag["units"] == 16
    assert all(a["accuracy"] == 1.0 for a in result["control_accuracy"])
    text = format_text(result)
    assert "Bradley-Terry" in text and "1. model-a" in text and "Krippendorff" in text


def test_noisy_raters_give_lower_agreement_and_a_report_section(tmp_path, runs):
    path = tmp_path / "s.sqlite"
    create_study(path, runs[:2], "ab", ratings_per_task=4, control_rate=0.25, images_per_side=1)
    _simulate(path, ["r1", "r2", "r3"], lambda view, rng: rng.choice([view.left_run, view.right_run, "tie"]))
    _simulate(path, ["careless"], lambda view, rng: "tie", controls_right=False)
    options = AnalysisOptions(min_control_accuracy=0.5, resamples=20)
    result = analyze_db(path, options=options)
    assert result["raters_dropped"] == ["careless"]
    assert result["bradley_terry"] == []  # two models: the rates say it all
    agreement = result["agreement"][0]
    assert agreement["units"] == 6 and agreement["ordinal"] < 0.9  # random answers: far from agreement
    html = render_analysis_html(path, options=options)
    assert html.strip().startswith('<section class="human-study">') and "careless" in html
    assert "Which set of images is of higher quality?" in html and "model-a vs model-b" in html


def test_export_csv_and_parquet_round_trip(study_db, tmp_path):
    _simulate(study_db, ["r1", "r2"], lambda view, rng: view.left_run)
    conn = db.connect(study_db)
    frame = votes_frame(conn, db.get_study(conn))
    conn.close()
    assert list(frame.columns) == VOTE_COLUMNS and len(frame) in range(14, 17)  # 2 raters x (6 regular + 1-2 controls)
    back = pd.read_parquet(write_votes(frame, tmp_path / "votes.parquet"))
    pd.testing.assert_frame_equal(back, frame)
    csv = pd.read_csv(write_votes(frame, tmp_path / "votes.csv"))
    assert list(csv.columns) == VOTE_COLUMNS
    assert csv["vote_id"].tolist() == frame["vote_id"].tolist() and csv["quality"].tolist() == frame["quality"].tolist()
    regular = frame[frame["kind"] == "regular"]
    assert (regular["quality"] == "A").all() and (regular["quality_winner"] == regular["left_run"]).all()
    assert (regular["left_run"] == regular["run_a"].where(regular["a_left"], regular["run_b"])).all()
    from evalkit.errors import UserError

    with pytest.raises(UserError, match=".csv or .parquet"):
        write_votes(frame, tmp_path / "votes.xlsx")
