"""Render a run directory's report.html (self-contained) and report.md.

Reads only what earlier stages wrote (spec.yaml, metrics.json, samples.parquet), so a
report can be re-rendered without the models.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import yaml

from evalkit.store import atomic_write_text

THUMBNAIL = 128
CATEGORY_PLOT = "report-clip-categories.png"

HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>evalkit report: {{ run_id }}</title>
<style>
 body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #222; }
 table { border-collapse: collapse; margin: 1rem 0; } td, th { border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; }
 th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
 .warn { background: #fff4e5; border-left: 4px solid #f0a020; padding: .5rem 1rem; margin: .4rem 0; }
 .prompt { margin: .6rem 0 1.2rem; } .prompt p { margin: .2rem 0; font-size: .95rem; }
 .prompt img { width: {{ thumb }}px; height: {{ thumb }}px; object-fit: contain; margin-right: 4px; border: 1px solid #ddd; image-rendering: pixelated; }
 pre { background: #f7f7f7; padding: 1rem; overflow-x: auto; font-size: .85rem; }
 code { font-size: .9em; } img.plot { max-width: 100%; }
</style></head><body>
<h1>evalkit report: <code>{{ run_id }}</code></h1>
<p>{{ n_images }} images of {{ n_prompts }} prompts.</p>
{% for w in warnings %}<div class="warn">⚠ {{ w }}</div>{% endfor %}
<h2>Metrics</h2>
<table><tr><th>metric</th><th>value</th><th>95% CI</th><th>better</th></tr>
{% for row in metric_rows %}<tr><td>{{ row.name }}</td><td class="num">{{ row.value }}</td><td class="num">{{ row.ci }}</td><td>{{ row.better }}</td></tr>
{% endfor %}</table>
{% if category_rows %}<h3>CLIP score per category</h3>
<table><tr><th>category</th><th>mean</th><th>95% CI</th></tr>
{% for row in category_rows %}<tr><td>{{ row.name }}</td><td class="num">{{ row.value }}</td><td class="num">{{ row.ci }}</td></tr>
{% endfor %}</table>
<img class="plot" alt="CLIP score per category with 95% CIs" src="data:image/png;base64,{{ category_plot }}">{% endif %}
<h2>Provenance</h2>
<table><tr><th>metric</th><th>field</th><th>value</th></tr>
{% for metric, fields in provenance.items() %}{% for k, v in fields.items() %}<tr><td>{{ metric }}</td><td>{{ k }}</td><td><code>{{ v }}</code></td></tr>
{% endfor %}{% endfor %}</table>
<h2>Images by category</h2>
{% for cat, prompts in grid %}<h3>{{ cat }}</h3>
{% for p in prompts %}<div class="prompt"><p><code>{{ p.id }}</code> {{ p.text }}</p>
{% for img in p.images %}<img alt="{{ p.id }} image {{ loop.index0 }}" title="seed {{ img.seed }}" src="data:image/png;base64,{{ img.data }}">{% endfor %}
</div>{% endfor %}{% endfor %}
<h2>Spec</h2>
<pre>{{ spec_yaml }}</pre>
</body></html>
"""


def _fmt(value) -> str:
    return "n/a" if value is None or value != value else f"{value:.4f}"


def _metric_rows(metrics: dict, higher_is_better: dict) -> tuple[list[dict], list[dict]]:
    """Split flat metric keys into headline rows and per-category CLIP rows, CIs attached."""
    rows, categories = [], []
    for key, value in metrics.items():
        if key.endswith(("/ci95_low", "/ci95_high")):
            continue
        base = key[: -len("/mean")] if key.endswith("/mean") else key
        low, high = metrics.get(f"{base}/ci95_low"), metrics.get(f"{base}/ci95_high")
        ci = f"[{_fmt(low)}, {_fmt(high)}]" if low is not None else ""
        top = key.split("/")[0]
        row = {"name": key, "value": _fmt(value), "ci": ci}
        if top == "clip_score" and key != "clip_score/mean":
            categories.append({**row, "name": key.split("/", 1)[1]})
        else:
            better = higher_is_better.get(top)
            rows.append({**row, "better": "" if better is None else ("higher" if better else "lower")})
    return rows, categories


def _thumbnail_b64(path: Path) -> str:
    from PIL import Image

    with Image.open(path) as img:
        img = img.convert("RGB")
        img.thumbnail((THUMBNAIL, THUMBNAIL))
        buf = io.BytesIO()
        img.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _grid(run_dir: Path, samples, per_category: int) -> list[tuple[str, list[dict]]]:
    grid = []
    samples = samples.assign(category=samples["category"].fillna("(no category)"))
    for cat, group in samples.groupby("category", sort=True):
        prompts = []
        for prompt_id in list(dict.fromkeys(group["prompt_id"]))[:per_category]:
            rows = group[group["prompt_id"] == prompt_id].sort_values("index")
            prompts.append({
                "id": prompt_id,
                "text": rows["text"].iloc[0],
                "images": [
                    {"seed": int(r.seed), "path": r.path, "data": _thumbnail_b64(run_dir / r.path)} for r in rows.itertuples()
                ],
            })
        grid.append((cat, prompts))
    return grid


def _markdown(ctx: dict) -> str:
    lines = [f"# evalkit report: `{ctx['run_id']}`", "", f"{ctx['n_images']} images of {ctx['n_prompts']} prompts.", ""]
    lines += [f"> ⚠ {w}" for w in ctx["warnings"]] + ([""] if ctx["warnings"] else [])
    lines += ["## Metrics", "", "| metric | value | 95% CI | better |", "| --- | ---: | ---: | --- |"]
    lines += [f"| {r['name']} | {r['value']} | {r['ci']} | {r['better']} |" for r in ctx["metric_rows"]]
    if ctx["category_rows"]:
        lines += ["", "### CLIP score per category", "", "| category | mean | 95% CI |", "| --- | ---: | ---: |"]
        lines += [f"| {r['name']} | {r['value']} | {r['ci']} |" for r in ctx["category_rows"]]
        lines += ["", f"![CLIP score per category]({CATEGORY_PLOT})"]
    lines += ["", "## Provenance", "", "| metric | field | value |", "| --- | --- | --- |"]
    lines += [f"| {m} | {k} | `{v}` |" for m, fields in ctx["provenance"].items() for k, v in fields.items()]
    lines += ["", "## Images by category", ""]
    for cat, prompts in ctx["grid"]:
        lines += [f"### {cat}", ""]
        for p in prompts:
            imgs = " ".join(f"![{p['id']}]({img['path']})" for img in p["images"])
            lines += [f"- `{p['id']}` {p['text']}", "", f"  {imgs}", ""]
    lines += ["## Spec", "", "```yaml", ctx["spec_yaml"].rstrip(), "```", ""]
    return "\n".join(lines)


def render_run_report(run_dir: str | Path) -> tuple[Path, Path]:
    import jinja2
    import pandas as pd

    run_dir = Path(run_dir)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    spec_yaml = (run_dir / "spec.yaml").read_text()
    samples = pd.read_parquet(run_dir / "samples.parquet")
    per_category = yaml.safe_load(spec_yaml)["spec"].get("report", {}).get("images_per_category", 4)
    metric_rows, category_rows = _metric_rows(metrics["metrics"], metrics.get("higher_is_better", {}))
    ctx = {
        "run_id": metrics["run_id"],
        "n_images": metrics["n_images"],
        "n_prompts": metrics["n_prompts"],
        "warnings": metrics.get("warnings", []),
        "metric_rows": metric_rows,
        "category_rows": category_rows,
        "provenance": metrics.get("provenance", {}),
        "grid": _grid(run_dir, samples, per_category),
        "spec_yaml": spec_yaml,
        "thumb": THUMBNAIL,
    }
    ctx["category_plot"] = ""
    if category_rows:
        from evalkit.reports.plots import categories_from_metrics, category_bars
        from evalkit.store import atomic_write_bytes

        png = category_bars({metrics["run_id"]: categories_from_metrics(metrics["metrics"])})
        atomic_write_bytes(run_dir / CATEGORY_PLOT, png)
        ctx["category_plot"] = base64.b64encode(png).decode()
    html = jinja2.Environment(autoescape=True).from_string(HTML).render(**ctx)
    html_path = atomic_write_text(run_dir / "report.html", html)
    md_path = atomic_write_text(run_dir / "report.md", _markdown(ctx))
    return html_path, md_path
