"""Analysis of a study's votes: pure functions from the votes table (export.votes_frame) to
plain dicts. Preference rates with Wilson 95% CIs, overall and per category, for every pair
of models; a Davidson Bradley–Terry ranking with task-bootstrap CIs for 3+ models;
Krippendorff's alpha per question; each rater's accuracy on the control tasks, optionally
dropping raters below a threshold before everything else is computed; and the rater checks
of bias.py (side bias, side balance, speed). Practice votes are never analysed."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from evalkit.human.agreement import krippendorff_alpha
from evalkit.human.bias import side_balance, side_choices, speed
from evalkit.human.bradley_terry import bootstrap_davidson, counts, fit_davidson
from evalkit.human.stats import wilson
from evalkit.human.votes import QUESTIONS

def control_accuracy(votes) -> list[dict]:
    """Per rater: control tasks answered, how many right, accuracy with a Wilson CI."""
    controls = votes[votes["kind"] == "control"]
    out = []
    for rater in sorted(votes["rater_id"].unique()):
        mine = controls[controls["rater_id"] == rater]
        n, k = len(mine), int(mine["control_correct"].fillna(0).sum())
        low, high = wilson(k, n)
        out.append({"rater_id": rater, "controls": n, "correct": k, "accuracy": k / n if n else float("nan"),
                    "ci_low": low, "ci_high": high})
    return out


def drop_unreliable(votes, accuracy: list[dict], min_accuracy: float | None):
    """Votes of raters whose control accuracy reaches min_accuracy (raters with no control
    answered yet are kept), and the ids dropped."""
    if min_accuracy is None:
        return votes, []
    dropped = [a["rater_id"] for a in accuracy if a["controls"] and a["accuracy"] < min_accuracy]
    return votes[~votes["rater_id"].isin(dropped)], dropped


def _rate_row(question: str, a: str, b: str, category: str, winners) -> dict:
    n = len(winners)
    row = {"question": question, "model_a": a, "model_b": b, "category": category, "n": n}
    for label, value in (("a", a), ("tie", "tie"), ("b", b)):
        k = int((winners == value).sum())
        low, high = wilson(k, n)
        row.update({f"{label}_count": k, f"{label}_rate": k / n if n else float("nan"),
                    f"{label}_low": low, f"{label}_high": high})
    return row


def preference_rates(votes, models: list[str], question: str) -> list[dict]:
    """For each pair (A = the model named first): share of votes for A, indifferent, B."""
    regular = votes[votes["kind"] == "regular"]
    rows = []
    for a, b in itertools.combinations(models, 2):
        pair = regular[((regular["left_run"] == a) & (regular["right_run"] == b))
                       | ((regular["left_run"] == b) & (regular["right_run"] == a))]
        winners = pair[f"{question}_winner"]
        rows.append(_rate_row(question, a, b, "all", winners))
        for category in sorted(pair["category"].unique()):
            rows.append(_rate_row(question, a, b, category, winners[pair["category"] == category]))
    return rows


def _comparisons(votes, models: list[str], question: str):
    regular = votes[votes["kind"] == "regular"]
    pos = {m: n for n, m in enumerate(models)}
    i = regular["left_run"].map(pos).to_numpy(int)
    j = regular["right_run"].map(pos).to_numpy(int)
    winner = regular[f"{question}_winner"].to_numpy()
    outcome = np.where(winner == regular["left_run"].to_numpy(), 0, np.where(winner == "tie", 1, 2))
    return regular["task_id"].to_numpy(), i, j, outcome


def bradley_terry(votes, models: list[str], question: str, resamples: int = 200, seed: int = 0) -> dict:
    """Davidson BT strengths (sum 1), ranked, with percentile 95% CIs over task resamples."""
    task, i, j, outcome = _comparisons(votes, models, question)
    if len(task) == 0:
        return {"question": question, "n": 0, "ranking": []}
    fit = fit_davidson(*counts(i, j, outcome, len(models)))
    boot = bootstrap_davidson(task, i, j, outcome, len(models), resamples, seed) if resamples else None
    ranking = []
    for m in np.argsort(-fit.strength, kind="stable"):
        low, high = (np.percentile(boot[:, m], [2.5, 97.5]) if boot is not None else (np.nan, np.nan))
        ranking.append({"model": models[m], "strength": float(fit.strength[m]), "ci_low": float(low),
                        "ci_high": float(high)})
    return {"question": question, "n": int(len(task)), "tie_parameter": fit.nu, "resamples": resamples,
            "ranking": ranking}


def agreement(votes, question: str) -> dict:
    """Krippendorff's alpha over regular tasks (units) and raters (coders), on the de-randomised
    answers (A < indifferent < B with A the model named first), since each rater saw their
    own side order."""
    regular = votes[votes["kind"] == "regular"]
    if regular.empty:
        return {"question": question, "units": 0, "ordinal": float("nan"), "nominal": float("nan")}
    won = regular[f"{question}_winner"]
    scored = regular.assign(value=np.where(won == regular["run_a"], 0.0, np.where(won == "tie", 1.0, 2.0)))
    data = scored.pivot_table(index="rater_id", columns="task_id", values="value", aggfunc="first").to_numpy(float)
    units = int((np.sum(~np.isnan(data), axis=0) >= 2).sum())
    return {"question": question, "units": units, "ordinal": krippendorff_alpha(data, "ordinal"),
            "nominal": krippendorff_alpha(data, "nominal")}


@dataclass(frozen=True)
class AnalysisOptions:
    min_control_accuracy: float | None = None  # drop raters below this control accuracy
    resamples: int = 200                       # task-bootstrap resamples for Bradley-Terry CIs
    seed: int = 0                              # of the bootstrap
    min_seconds: float = 3.0                   # flag raters whose median time per task is below this


def _note(votes, regular) -> str | None:
    if votes.empty:
        return ("no votes yet: nothing to analyse. Share the rating link (`evalkit human serve`) and run "
                "`evalkit human analyze` again once raters have voted.")
    if regular.empty:
        return "no votes on regular tasks yet (only control or practice answers): no preferences to report."
    return None


def analyze_votes(votes, models: list[str], options: AnalysisOptions | None = None) -> dict:
    """Everything `evalkit human analyze` reports, as plain data. An empty study gives the same
    keys with empty tables and a `note` saying why."""
    o = options or AnalysisOptions()
    votes = votes[votes["kind"] != "practice"]
    accuracy = control_accuracy(votes)
    for row in accuracy:
        row["kept"] = not (o.min_control_accuracy is not None and row["controls"]
                           and row["accuracy"] < o.min_control_accuracy)
    kept, dropped = drop_unreliable(votes, accuracy, o.min_control_accuracy)
    regular = kept[kept["kind"] == "regular"]
    return {
        "models": list(models), "votes": int(len(votes)), "regular_votes_used": int(len(regular)),
        "raters": int(votes["rater_id"].nunique()), "note": _note(votes, regular),
        "min_control_accuracy": o.min_control_accuracy, "raters_dropped": dropped, "control_accuracy": accuracy,
        "preferences": [row for q in QUESTIONS for row in preference_rates(kept, models, q)] if len(regular) else [],
        "bradley_terry": ([bradley_terry(kept, models, q, o.resamples, o.seed) for q in QUESTIONS]
                          if len(models) >= 3 and len(regular) else []),
        "agreement": [agreement(kept, q) for q in QUESTIONS],
        "side_bias": [side_choices(kept, q) for q in QUESTIONS],
        "side_balance": side_balance(kept),
        "speed": {"min_seconds": o.min_seconds, "raters": speed(kept, o.min_seconds)},
    }
