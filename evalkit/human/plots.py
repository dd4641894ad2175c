"""Figures of a study's analysis as PNG bytes (matplotlib, imported when drawn), from the
plain data of analysis.analyze_votes. Figure set-up and PNG encoding are the reports'
(evalkit.reports.plots), so every evalkit figure looks and encodes the same."""

from __future__ import annotations

import numpy as np

QUESTION_LABELS = {"quality": "Image fidelity (quality)", "alignment": "Image-text alignment"}
COLORS = {"a": "#3b6fb6", "tie": "#b8b8b8", "b": "#d9822b"}


def _errors(rows: list[dict], side: str) -> np.ndarray:
    rate = np.array([r[f"{side}_rate"] for r in rows], float)
    low = np.array([r[f"{side}_low"] for r in rows], float)
    high = np.array([r[f"{side}_high"] for r in rows], float)
    return np.clip(np.nan_to_num(np.vstack([rate - low, high - rate])), 0, None)  # round-off can dip below zero


def preference_bars(preferences: list[dict], model_a: str, model_b: str) -> bytes:
    """Imagen (DrawBench) style: for one pair of models, the share of votes preferring each
    model (and indifferent), overall and per category, with Wilson 95% CIs; one panel per
    question. `preferences` are analysis rows; those of other pairs are ignored."""
    from evalkit.reports.plots import figure, png_bytes

    questions = [q for q in QUESTION_LABELS if any(r["question"] == q for r in preferences)]
    pair = [r for r in preferences if (r["model_a"], r["model_b"]) == (model_a, model_b)]
    categories = ["all"] + sorted({r["category"] for r in pair} - {"all"})
    fig, axes = figure(max(7.0, 0.75 * len(categories) + 2), 3.3 * max(1, len(questions)))
    fig.clf()
    for k, question in enumerate(questions):
        ax = fig.add_subplot(len(questions), 1, k + 1)
        rows = [next(r for r in pair if r["question"] == question and r["category"] == c) for c in categories]
        x, width = np.arange(len(categories)), 0.27
        for offset, side, label in ((-width, "a", model_a), (0.0, "tie", "indifferent"), (width, "b", model_b)):
            ax.bar(x + offset, [100 * r[f"{side}_rate"] for r in rows], width, color=COLORS[side], label=label,
                   yerr=100 * _errors(rows, side), capsize=2, error_kw={"elinewidth": 0.8})
        ax.set_xticks(x, [f"{c}\n(n={r['n']})" for c, r in zip(categories, rows)], fontsize=7,
                      rotation=30 if len(categories) > 6 else 0, ha="right" if len(categories) > 6 else "center")
        ax.set_ylim(0, 100)
        ax.set_ylabel("% of votes (95% CI)")
        ax.axhline(50, color="black", linewidth=0.6, linestyle=":")
        ax.set_title(QUESTION_LABELS[question], fontsize=9)
        ax.grid(axis="y", alpha=0.3)
        if k == 0:  # above the first panel: bars reach 100%, so inside it would hide them
            ax.legend(fontsize=7, ncol=3, loc="lower center", bbox_to_anchor=(0.5, 1.12), frameon=False)
    fig.suptitle(f"Human preference: {model_a} vs {model_b}", fontsize=10)
    return png_bytes(fig)


def bradley_terry_plot(bradley_terry: list[dict]) -> bytes:
    """Davidson Bradley–Terry strengths (sum 1) per model with bootstrap 95% CIs, best on top;
    one panel per question. `bradley_terry` is the analysis's list (one entry per question)."""
    from evalkit.reports.plots import figure, png_bytes

    fits = [b for b in bradley_terry if b["ranking"]]
    n_models = max((len(b["ranking"]) for b in fits), default=1)
    fig, _ = figure(7.0, 0.9 + (0.35 * n_models + 0.6) * max(1, len(fits)))
    fig.clf()
    for k, fit in enumerate(fits):
        ax = fig.add_subplot(len(fits), 1, k + 1)
        ranking = fit["ranking"][::-1]  # best at the top
        strength = np.array([m["strength"] for m in ranking])
        low = np.array([m["ci_low"] for m in ranking])
        high = np.array([m["ci_high"] for m in ranking])
        err = np.clip(np.nan_to_num(np.vstack([strength - low, high - strength])), 0, None)
        y = np.arange(len(ranking))
        ax.errorbar(strength, y, xerr=err, fmt="o", color=COLORS["a"], capsize=3)
        ax.set_yticks(y, [m["model"] for m in ranking], fontsize=8)
        ax.axvline(1 / len(ranking), color="black", linewidth=0.6, linestyle=":")  # all models equal
        ax.set_xlim(0, 1)
        ax.set_xlabel("strength (share of the total; 95% bootstrap CI)", fontsize=8)
        ax.set_title(f"{QUESTION_LABELS[fit['question']]}: Bradley–Terry (Davidson, ties), n={fit['n']}", fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    return png_bytes(fig)
