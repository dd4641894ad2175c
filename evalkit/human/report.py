"""Study analysis as text (the CLI), JSON-ready data (analyze_db), and an HTML section with
its figures that a report can embed (render_result_html / render_analysis_html). The HTML
is the Jinja2 template assets/analysis.html.j2."""

from __future__ import annotations

import base64
import math
from importlib import resources

from evalkit.human import db
from evalkit.human.analysis import AnalysisOptions, analyze_votes
from evalkit.human.export import votes_frame

QUESTION_TITLES = {
    "quality": "Which set of images is of higher quality?",
    "alignment": "Which set of images better represents the text caption?",
}


def analyze_db(target, study: str | None = None, options: AnalysisOptions | None = None) -> dict:
    store = db.connect(target)
    try:
        s = db.get_study(store, study)
        votes = votes_frame(store, s)
    finally:
        store.close()
    return {"study": s.name, **analyze_votes(votes, list(s.runs), options)}


def _pct(x: float | None) -> str:
    return "  n/a" if x is None or math.isnan(x) else f"{100 * x:5.1f}%"


def _ci(low: float, high: float) -> str:
    return "" if low is None or math.isnan(low) else f"[{100 * low:.1f}, {100 * high:.1f}]"


def _num(x: float | None) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{x:.3f}"


def _p(x: float | None) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{x:.3g}"


def _question_lines(result: dict, q: str) -> list[str]:
    lines = ["", f"{q}: {QUESTION_TITLES[q]}"]
    for r in (r for r in result["preferences"] if r["question"] == q):
        head = f"  {r['model_a']} vs {r['model_b']}" if r["category"] == "all" else f"    {r['category']}"
        lines.append(f"{head:<40} n={r['n']:<5} A {_pct(r['a_rate'])} {_ci(r['a_low'], r['a_high']):<14} "
                     f"= {_pct(r['tie_rate'])} {_ci(r['tie_low'], r['tie_high']):<14} "
                     f"B {_pct(r['b_rate'])} {_ci(r['b_low'], r['b_high'])}")
    for bt in (b for b in result["bradley_terry"] if b["question"] == q and b["ranking"]):
        lines.append(f"  Bradley-Terry (Davidson, ties; {bt['resamples']} task resamples), "
                     f"tie parameter {bt['tie_parameter']:.3f}:")
        for rank, m in enumerate(bt["ranking"], 1):
            lines.append(f"    {rank}. {m['model']:<32} {m['strength']:.3f} [{_num(m['ci_low'])}, {_num(m['ci_high'])}]")
    for a in (a for a in result["agreement"] if a["question"] == q):
        lines.append(f"  Krippendorff's alpha: ordinal {_num(a['ordinal'])}, nominal {_num(a['nominal'])} "
                     f"({a['units']} tasks rated twice or more)")
    for bias in (b for b in result["side_bias"] if b["question"] == q):
        o = bias["overall"]
        lines.append(f"  left set chosen (ties aside): {_pct(o['left_rate'])} {_ci(o['ci_low'], o['ci_high'])} of "
                     f"{o['decided']}, p={_p(o['p_value'])} vs 50%")
        for r in (r for r in bias["raters"] if r["flagged"]):
            lines.append(f"    side-biased: {r['rater_id']} left {r['left']}/{r['decided']}, Holm p={_p(r['p_adjusted'])}")
    return lines


def _rater_lines(result: dict) -> list[str]:
    bal = result["side_balance"]
    lines = ["", f"side balance: run_a shown on the left in {bal['a_left']} of {bal['votes']} regular votes "
             f"({_pct(bal['a_left_share']).strip()}); {len(bal['unbalanced'])} of {bal['tasks']} tasks off by more "
             f"than one view"]
    fast = [r for r in result["speed"]["raters"] if r["flagged"]]
    lines.append(f"too fast (median under {result['speed']['min_seconds']:g} s per task): "
                 + (", ".join(f"{r['rater_id']} ({r['median_seconds']:.1f} s)" for r in fast) or "none"))
    lines += ["", "control tasks (known answer) per rater:"]
    for a in result["control_accuracy"]:
        flag = "" if a.get("kept", True) else "  (dropped)"
        lines.append(f"  {a['rater_id']:<24} {a['correct']}/{a['controls']} {_pct(a['accuracy'])} "
                     f"{_ci(a['ci_low'], a['ci_high'])}{flag}")
    return lines


def format_text(result: dict) -> str:
    lines = [f"study {result['study']}: {result['votes']} votes by {result['raters']} raters; "
             f"{result['regular_votes_used']} regular votes analysed; models: {', '.join(result['models'])}"]
    if result["note"]:
        return "\n".join(lines + [result["note"]])
    if result["raters_dropped"]:
        lines.append(f"dropped (control accuracy < {result['min_control_accuracy']}): {', '.join(result['raters_dropped'])}")
    for q in QUESTION_TITLES:
        lines += _question_lines(result, q)
    return "\n".join(lines + _rater_lines(result))


def figures(result: dict) -> dict:
    """The analysis's figures as base64 PNG: {"preferences": [(title, b64)], "bradley_terry": b64 | None}."""
    from evalkit.human.plots import bradley_terry_plot, preference_bars

    def b64(png: bytes) -> str:
        return base64.b64encode(png).decode("ascii")

    pairs = list(dict.fromkeys((r["model_a"], r["model_b"]) for r in result["preferences"]))
    bt = [b for b in result["bradley_terry"] if b["ranking"]]
    return {"preferences": [(f"{a} vs {b}", b64(preference_bars(result["preferences"], a, b))) for a, b in pairs],
            "bradley_terry": b64(bradley_terry_plot(bt)) if bt else None}


def render_result_html(result: dict, with_figures: bool = True) -> str:
    import jinja2

    template = resources.files("evalkit.human").joinpath("assets/analysis.html.j2").read_text(encoding="utf-8")
    return jinja2.Environment(autoescape=True).from_string(template).render(
        r=result, titles=QUESTION_TITLES, pct=lambda x: _pct(x).strip(), ci=_ci, num=_num, p=_p,
        figures=figures(result) if with_figures and not result["note"] else None)


def render_analysis_html(target, study: str | None = None, options: AnalysisOptions | None = None) -> str:
    """An HTML <section> with the study's analysis and figures, for embedding in report.html."""
    return render_result_html(analyze_db(target, study, options))
