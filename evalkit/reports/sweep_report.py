"""The report of a sweep: results table, FID-vs-CLIP curves, per-category bars, image grids
(a prompt per row, runs side by side), the provenance of every number, and warnings
wherever numbers are not comparable."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import yaml

from evalkit.reports.render import _fmt, _thumbnail_b64
from evalkit.store import atomic_write_bytes, atomic_write_text

GRID_PROMPTS = 12
PROVENANCE_FIELDS = ("resize", "extractor", "weights_sha256", "reference", "reference_files_sha256", "n",
                     "clip_model", "clip_weights", "fid_bootstrap")

HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>evalkit sweep: {{ name }}</title>
<style>
 body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 80rem; color: #222; }
 table { border-collapse: collapse; margin: 1rem 0; font-size: .9rem; } td, th { border: 1px solid #ccc; padding: .25rem .5rem; }
 th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
 .warn { background: #fff4e5; border-left: 4px solid #f0a020; padding: .5rem 1rem; margin: .4rem 0; }
 .fail { background: #fdecea; border-left: 4px solid #d93025; padding: .5rem 1rem; margin: .4rem 0; }
 img.plot { max-width: 100%; } .grid img { width: 96px; height: 96px; object-fit: contain; image-rendering: pixelated; }
 .grid td { vertical-align: top; } code { font-size: .85em; }
</style></head><body>
<h1>evalkit sweep: <code>{{ name }}</code></h1>
<p>{{ rows|length }} runs over axes {% for a in axes %}<code>{{ a }}</code>{% if not loop.last %}, {% endif %}{% endfor %}.</p>
{% for w in warnings %}<div class="warn">⚠ {{ w }}</div>{% endfor %}
{% for r in failed %}<div class="fail">✗ run <code>{{ r.run_id }}</code> failed: {{ r.error }}</div>{% endfor %}
<h2>Results</h2>
<table><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for r in table %}<tr>{% for v in r %}<td class="num">{{ v }}</td>{% endfor %}</tr>{% endfor %}</table>
{% if curve %}<h2>FID vs CLIP score</h2><img class="plot" alt="FID vs CLIP score curves" src="data:image/png;base64,{{ curve }}">{% endif %}
{% if bars %}<h2>CLIP score per category</h2><img class="plot" alt="CLIP score per category" src="data:image/png;base64,{{ bars }}">{% endif %}
<h2>Images</h2>
<table class="grid"><tr><th>prompt</th>{% for r in grid_runs %}<th><code>{{ r }}</code></th>{% endfor %}</tr>
{% for p in grid %}<tr><td><code>{{ p.id }}</code><br>{{ p.text }}</td>{% for img in p.cells %}<td>{% if img %}<img alt="{{ p.id }}" src="data:image/png;base64,{{ img }}">{% endif %}</td>{% endfor %}</tr>{% endfor %}</table>
<h2>Provenance</h2>
<table><tr><th>run</th><th>metric</th>{% for f in prov_fields %}<th>{{ f }}</th>{% endfor %}</tr>
{% for row in provenance %}<tr>{% for v in row %}<td><code>{{ v }}</code></td>{% endfor %}</tr>{% endfor %}</table>
<h2>Versions and seeds</h2>
<table><tr><th>run</th><th>seed</th><th>images/prompt</th><th>evalkit git</th><th>versions</th></tr>
{% for v in versions %}<tr><td><code>{{ v.run }}</code></td><td>{{ v.seed }}</td><td>{{ v.ipp }}</td><td><code>{{ v.git }}</code></td><td><code>{{ v.versions }}</code></td></tr>{% endfor %}</table>
</body></html>
"""


def _comparability_warnings(docs: dict[str, dict]) -> list[str]:
    warnings = []
    for field_name, what in (("resize", "resize modes"), ("reference_files_sha256", "reference sets"),
                             ("weights_sha256", "Inception weights"), ("clip_model", "CLIP models")):
        seen = {}
        for run_id, doc in docs.items():
            for metric, prov in doc.get("provenance", {}).items():
                if field_name in prov:
                    seen.setdefault(str(prov[field_name]), []).append(run_id)
        if len(seen) > 1:
            warnings.append(f"runs use different {what} ({', '.join(seen)}): their numbers are not comparable")
    small = sorted({doc["n_images"] for doc in docs.values() if "fid" in doc["metrics"] and doc["n_images"] < 2048})
    if small:
        warnings.append(f"FID from {', '.join(map(str, small))} images (< 2048): biased upward, compare only at equal N")
    for doc in docs.values():
        warnings += [w for w in doc.get("warnings", []) if "RANDOM" in w][:1]
    return list(dict.fromkeys(warnings))


def render_sweep_report(sweep_dir: str | Path) -> Path:
    import jinja2
    import pandas as pd

    from evalkit.reports.plots import categories_from_metrics, category_bars, fid_vs_clip

    sweep_dir = Path(sweep_dir)
    info = yaml.safe_load((sweep_dir / "sweep.yaml").read_text())
    axes = list(info["sweep"]["axes"])
    results = pd.read_parquet(sweep_dir / "results.parquet")
    ok = results[results["status"] != "failed"]
    docs = {r: json.loads((sweep_dir / "runs" / r / "metrics.json").read_text()) for r in ok["run_id"]}

    x_axis = next((a for a in axes if "guidance" in a), None)
    curve = ""
    if x_axis and {"fid", "clip_score/mean"} <= set(ok.columns):
        others = [a for a in axes if a != x_axis and a != "seed"]
        numeric = [c for c in ok.columns if c not in axes and c not in ("run_id", "status", "error") and ok[c].dtype.kind in "fi"]
        means = ok.groupby(others + [x_axis], as_index=False)[numeric].mean() if others else ok.groupby(x_axis, as_index=False)[numeric].mean()
        curve = base64.b64encode(fid_vs_clip(means, x_axis, others)).decode()
    series = {r: categories_from_metrics(docs[r]["metrics"]) for r in docs}
    bars = base64.b64encode(category_bars(series)).decode() if any(series.values()) and len(series) <= 12 else ""

    headline = [c for c in ("fid", "fid/ci95_low", "fid/ci95_high", "kid/mean", "cmmd", "clip_score/mean",
                            "clip_score/ci95_low", "clip_score/ci95_high", "seconds") if c in results.columns]
    columns = ["run_id", *axes, "status", *headline]
    table = [[_fmt(v) if isinstance(v, float) else ("" if v is None else v) for v in row]
             for row in results.reindex(columns=columns).itertuples(index=False)]

    grid_runs = list(docs)
    samples = {r: pd.read_parquet(sweep_dir / "runs" / r / "samples.parquet") for r in grid_runs}
    prompts = []
    if grid_runs:
        first = samples[grid_runs[0]].drop_duplicates("prompt_id").head(GRID_PROMPTS)
        for row in first.itertuples():
            cells = []
            for r in grid_runs:
                match = samples[r][(samples[r]["prompt_id"] == row.prompt_id) & (samples[r]["index"] == 0)]
                cells.append(_thumbnail_b64(sweep_dir / "runs" / r / match["path"].iloc[0]) if len(match) else "")
            prompts.append({"id": row.prompt_id, "text": row.text, "cells": cells})

    provenance = [[r, m, *(prov.get(f, "") for f in PROVENANCE_FIELDS)]
                  for r, doc in docs.items() for m, prov in doc.get("provenance", {}).items()]
    versions = []
    for r in grid_runs:
        spec = yaml.safe_load((sweep_dir / "runs" / r / "spec.yaml").read_text())
        v = spec.get("versions", {})
        versions.append({"run": r, "seed": spec["spec"]["seed"], "ipp": spec["spec"]["images_per_prompt"],
                         "git": spec.get("evalkit_git"),
                         "versions": ", ".join(f"{k} {v[k]}" for k in ("torch", "diffusers", "transformers", "open_clip_torch") if v.get(k))})

    html = jinja2.Environment(autoescape=True).from_string(HTML).render(
        name=info["sweep"]["name"], axes=axes, rows=results.to_dict("records"),
        failed=results[results["status"] == "failed"].to_dict("records"),
        warnings=_comparability_warnings(docs), columns=columns, table=table, curve=curve, bars=bars,
        grid_runs=grid_runs, grid=prompts, prov_fields=PROVENANCE_FIELDS, provenance=provenance, versions=versions,
    )
    md = [f"# evalkit sweep: `{info['sweep']['name']}`", ""]
    md += [f"> ⚠ {w}" for w in _comparability_warnings(docs)] + [""]
    md += ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    md += ["| " + " | ".join(str(v) for v in row) + " |" for row in table]
    for name, b64 in (("report-fid-vs-clip.png", curve), ("report-clip-categories.png", bars)):
        if b64:
            atomic_write_bytes(sweep_dir / name, base64.b64decode(b64))
            md += ["", f"![{name}]({name})"]
    atomic_write_text(sweep_dir / "report.md", "\n".join(md) + "\n")
    return atomic_write_text(sweep_dir / "report.html", html)
