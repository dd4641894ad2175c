"""Study analysis as text (the CLI), JSON-ready data, and an HTML section a run report
can embed (render_analysis_html)."""

from __future__ import annotations

import math
from pathlib import Path

from evalkit.human import db
from evalkit.human.analysis import analyze_votes
from evalkit.human.export import votes_frame

QUESTION_TITLES = {
    "quality": "Which set of images is of higher quality?",
    "alignment": "Which set of images better represents the text caption?",
}


def analyze_db(db_path: str | Path, study: str | None = None, min_control_accuracy: float | None = None,
               resamples: int = 200, seed: int = 0) -> dict:
    conn = db.connect(db_path)
    try:
        s = db.get_study(conn, study)
        votes = votes_frame(conn, s)
    finally:
        conn.close()
    result = analyze_votes(votes, list(s.runs), min_control_accuracy, resamples, seed)
    return {"study": s.name, **result}


def _pct(x: float) -> str:
    return "  n/a" if x is None or math.isnan(x) else f"{100 * x:5.1f}%"


def _ci(low: float, high: float) -> str:
    return "" if math.isnan(low) else f"[{100 * low:.1f}, {100 * high:.1f}]"


def format_text(result: dict) -> str:
    lines = [f"study {result['study']}: {result['votes']} votes by {result['raters']} raters; "
             f"{result['regular_votes_used']} regular votes analysed; models: {', '.join(result['models'])}"]
    if result["raters_dropped"]:
        lines.append(f"dropped (control accuracy < {result['min_control_accuracy']}): {', '.join(result['raters_dropped'])}")
    for q in ("quality", "alignment"):
        lines += ["", f"{q}: {QUESTION_TITLES[q]}"]
        for r in (r for r in result["preferences"] if r["question"] == q):
            head = f"  {r['model_a']} vs {r['model_b']}" if r["category"] == "all" else f"    {r['category']}"
            lines.append(f"{head:<40} n={r['n']:<5} A {_pct(r['a_rate'])} {_ci(r['a_low'], r['a_high']):<14} "
                         f"= {_pct(r['tie_rate'])} {_ci(r['tie_low'], r['tie_high']):<14} "
                         f"B {_pct(r['b_rate'])} {_ci(r['b_low'], r['b_high'])}")
        for bt in (b for b in result["bradley_terry"] if b["question"] == q and b["ranking"]):
            lines.append(f"  Bradley-Terry (Davidson, ties; {bt['resamples']} task resamples), "
                         f"tie parameter {bt['tie_parameter']:.3f}:")
            for rank, m in enumerate(bt["ranking"], 1):
                lines.append(f"    {rank}. {m['model']:<32} {m['strength']:.3f} [{m['ci_low']:.3f}, {m['ci_high']:.3f}]")
        for a in (a for a in result["agreement"] if a["question"] == q):
            lines.append(f"  Krippendorff's alpha: ordinal {a['ordinal']:.3f}, nominal {a['nominal']:.3f} "
                         f"({a['units']} tasks rated twice or more)")
    lines += ["", "control tasks (known answer) per rater:"]
    for a in result["control_accuracy"]:
        flag = "" if a.get("kept", True) else "  (dropped)"
        lines.append(f"  {a['rater_id']:<24} {a['correct']}/{a['controls']} {_pct(a['accuracy'])} "
                     f"{_ci(a['ci_low'], a['ci_high'])}{flag}")
    return "\n".join(lines)


HTML = """<section class="human-study">
<h2>Human preference study: <code>{{ r.study }}</code></h2>
<p>{{ r.votes }} votes by {{ r.raters }} raters ({{ r.regular_votes_used }} regular votes analysed).
Set A is the model named first; rates are shares of votes with Wilson 95% CIs.
{% if r.raters_dropped %}Dropped for control accuracy below {{ r.min_control_accuracy }}: {{ r.raters_dropped|join(', ') }}.{% endif %}</p>
{% for q, title in titles.items() %}<h3>{{ title }}</h3>
<table><tr><th>A vs B</th><th>category</th><th>n</th><th>prefer A</th><th>indifferent</th><th>prefer B</th></tr>
{% for p in r.preferences if p.question == q %}<tr><td>{{ p.model_a }} vs {{ p.model_b }}</td><td>{{ p.category }}</td><td class="num">{{ p.n }}</td>
<td class="num">{{ pct(p.a_rate) }} {{ ci(p.a_low, p.a_high) }}</td><td class="num">{{ pct(p.tie_rate) }} {{ ci(p.tie_low, p.tie_high) }}</td><td class="num">{{ pct(p.b_rate) }} {{ ci(p.b_low, p.b_high) }}</td></tr>
{% endfor %}</table>
{% for bt in r.bradley_terry if bt.question == q and bt.ranking %}<p>Bradley–Terry ranking (Davidson model with ties, {{ bt.resamples }} task-bootstrap resamples; tie parameter {{ '%.3f'|format(bt.tie_parameter) }}):</p>
<table><tr><th>rank</th><th>model</th><th>strength</th><th>95% CI</th></tr>
{% for m in bt.ranking %}<tr><td>{{ loop.index }}</td><td>{{ m.model }}</td><td class="num">{{ '%.3f'|format(m.strength) }}</td><td class="num">[{{ '%.3f'|format(m.ci_low) }}, {{ '%.3f'|format(m.ci_high) }}]</td></tr>
{% endfor %}</table>{% endfor %}
{% for a in r.agreement if a.question == q %}<p>Krippendorff's alpha: ordinal {{ num(a.ordinal) }}, nominal {{ num(a.nominal) }} ({{ a.units }} tasks rated twice or more).</p>{% endfor %}
{% endfor %}
<h3>Control tasks per rater</h3>
<table><tr><th>rater</th><th>correct</th><th>accuracy</th><th>kept</th></tr>
{% for a in r.control_accuracy %}<tr><td>{{ a.rater_id }}</td><td class="num">{{ a.correct }}/{{ a.controls }}</td><td class="num">{{ pct(a.accuracy) }} {{ ci(a.ci_low, a.ci_high) }}</td><td>{{ 'yes' if a.kept else 'no' }}</td></tr>
{% endfor %}</table>
</section>
"""


def render_result_html(result: dict) -> str:
    import jinja2

    num = lambda x: "n/a" if x is None or math.isnan(x) else f"{x:.3f}"  # noqa: E731
    return jinja2.Environment(autoescape=True).from_string(HTML).render(
        r=result, titles=QUESTION_TITLES, pct=lambda x: _pct(x).strip(), ci=_ci, num=num)


def render_analysis_html(db_path: str | Path, study: str | None = None, min_control_accuracy: float | None = None,
                         resamples: int = 200) -> str:
    """An HTML <section> with the study's analysis, for embedding in report.html."""
    return render_result_html(analyze_db(db_path, study, min_control_accuracy, resamples))
