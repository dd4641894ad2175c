"""Checks that catch a study going wrong through its raters rather than its models: side
bias (a rater who keeps picking the left set), unbalanced side orders, and raters too fast
to have looked. Pure functions of the votes table (export.votes_frame)."""

from __future__ import annotations

import numpy as np

from evalkit.human.stats import binomial_p, holm, wilson

FLAG_P = 0.05  # family-wise level: Holm-adjusted over the raters


def _choice_row(answers) -> dict:
    left, right = int((answers == "A").sum()), int((answers == "B").sum())
    n = left + right
    low, high = wilson(left, n)
    return {"left": left, "right": right, "ties": int((answers == "tie").sum()), "decided": n,
            "left_rate": left / n if n else float("nan"), "ci_low": low, "ci_high": high,
            "p_value": binomial_p(left, n)}


def side_choices(votes, question: str) -> dict:
    """Per rater and overall: how often the left set (A) was chosen over the right one (B),
    ties aside, with a Wilson CI and an exact binomial test against 50%. Raters whose
    Holm-adjusted p is below FLAG_P are flagged as side-biased. Regular tasks only: a
    control's right answer is tied to a side."""
    regular = votes[votes["kind"] == "regular"]
    raters = []
    for rater in sorted(regular["rater_id"].unique()):
        raters.append({"rater_id": rater, **_choice_row(regular.loc[regular["rater_id"] == rater, question])})
    for row, p_adj in zip(raters, holm([r["p_value"] for r in raters])):
        row.update(p_adjusted=p_adj, flagged=bool(p_adj < FLAG_P))
    return {"question": question, "raters": raters, "overall": _choice_row(regular[question])}


def side_balance(votes) -> dict:
    """Per regular task: how many of its votes saw run_a on the left vs on the right. The claim
    balances side orders per task, so |left - right| <= 1 unless views were abandoned;
    `unbalanced` lists the tasks where it is more, `a_left_share` is overall."""
    regular = votes[votes["kind"] == "regular"]
    if regular.empty:
        return {"tasks": 0, "unbalanced": [], "max_imbalance": 0, "a_left": 0, "votes": 0,
                "a_left_share": float("nan"), "p_value": float("nan")}
    per_task = regular.groupby("task_id")["a_left"].agg(["sum", "count"])
    imbalance = (2 * per_task["sum"] - per_task["count"]).abs()
    a_left, n = int(per_task["sum"].sum()), int(per_task["count"].sum())
    return {"tasks": int(len(per_task)), "unbalanced": [int(t) for t in per_task.index[imbalance > 1]],
            "max_imbalance": int(imbalance.max()), "a_left": a_left, "votes": n, "a_left_share": a_left / n,
            "p_value": binomial_p(a_left, n)}


def speed(votes, min_seconds: float) -> list[dict]:
    """Per rater: votes and the median seconds from a task shown to submitted (regular tasks);
    flagged when the median is below min_seconds (too fast to have looked at the images)."""
    regular = votes[votes["kind"] == "regular"]
    out = []
    for rater in sorted(regular["rater_id"].unique()):
        seconds = regular.loc[regular["rater_id"] == rater, "seconds"].dropna().to_numpy(float)
        median = float(np.median(seconds)) if len(seconds) else float("nan")
        out.append({"rater_id": rater, "votes": int(len(seconds)), "median_seconds": median,
                    "flagged": bool(len(seconds) and median < min_seconds)})
    return out
