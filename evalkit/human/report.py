"""Study analysis as text (the CLI), JSON-ready data (analyze_db), and the report section
with its figures (HumanSection), rendered by the reports' templates
(evalkit/reports/templates/_human.html.j2 and _human.md.j2) inside run and sweep reports
(attach() a study's analysis to their folder), on a page of its own, or alone."""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field
from pathlib import Path

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


def _pct(x: float | None) -> str:  # None: NaN read back from JSON
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


def json_safe(obj):
    """NaN is not JSON: null instead (what --json prints and human-<study>.json holds)."""
    if isinstance(obj, float) and obj != obj:
        return None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [json_safe(v) for v in obj]
    return obj


@dataclass(frozen=True)
class HumanSection:
    """A study's analysis as the report templates show it (reports/templates/_human.*.j2)."""

    result: dict
    figures: list  # (title, base64 PNG, file name beside the report or "")
    titles: dict = field(default_factory=lambda: dict(QUESTION_TITLES))

    pct = staticmethod(lambda x: _pct(x).strip())
    ci = staticmethod(_ci)
    num = staticmethod(_num)
    p = staticmethod(_p)

    def raters(self) -> list[dict]:
        """One row per rater: control accuracy, side choices (quality question) and speed."""
        bias = {b["rater_id"]: b for b in self.result["side_bias"][0]["raters"]} if self.result["side_bias"] else {}
        speed = {s["rater_id"]: s for s in self.result["speed"]["raters"]}
        rows = []
        for a in self.result["control_accuracy"]:
            b, s = bias.get(a["rater_id"]), speed.get(a["rater_id"])
            rows.append({**a, "left": f"{b['left']}/{b['decided']} (p = {_p(b['p_adjusted'])})" if b else "",
                         "side_biased": bool(b and b["flagged"]), "too_fast": bool(s and s["flagged"]),
                         "median_seconds": f"{s['median_seconds']:.1f}" if s and s["votes"] else ""})
        return rows


def section(result: dict, folder: Path | None = None) -> HumanSection:
    """The section with its figures (base64, and as PNG files in `folder` for report.md)."""
    from evalkit.human.plots import bradley_terry_plot, preference_bars
    from evalkit.store import atomic_write_bytes

    if result["note"]:
        return HumanSection(result, [])
    pairs = list(dict.fromkeys((r["model_a"], r["model_b"]) for r in result["preferences"]))
    pngs = [(f"Preference rates per category, {a} vs {b}", preference_bars(result["preferences"], a, b)) for a, b in pairs]
    if any(b["ranking"] for b in result["bradley_terry"]):
        pngs.append(("Bradley–Terry strengths", bradley_terry_plot(result["bradley_terry"])))
    figures = []
    for n, (title, png) in enumerate(pngs):
        name = f"human-{result['study']}-{n}.png" if folder is not None else ""
        if name:
            atomic_write_bytes(folder / name, png)
        figures.append((title, base64.b64encode(png).decode("ascii"), name))
    return HumanSection(result, figures)


def render_result_html(result: dict, page: bool = False) -> str:
    """The analysis as an HTML section (or, page=True, a whole page with the reports' CSS)."""
    from evalkit.reports.render import render

    return render("human.html.j2" if page else "human_section.html.j2", section(result))


def render_analysis_html(target, study: str | None = None, options: AnalysisOptions | None = None) -> str:
    """An HTML <section> with the study's analysis and figures, for embedding in a page."""
    return render_result_html(analyze_db(target, study, options))


def attach(result: dict, folder: Path) -> Path:
    """Keep the analysis beside a run or sweep report (`human-<study>.json`), which then shows it."""
    from evalkit.store import atomic_write_json

    return atomic_write_json(Path(folder) / f"human-{result['study']}.json", json_safe(result))


def human_sections(folder: Path) -> tuple[HumanSection, ...]:
    """The sections of every study attached to this run or sweep folder (see attach)."""
    import json

    return tuple(section(json.loads(path.read_text(encoding="utf-8")), Path(folder))
                 for path in sorted(Path(folder).glob("human-*.json")))
