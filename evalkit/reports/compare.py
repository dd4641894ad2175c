"""`evalkit compare BASELINE CURRENT`: metric deltas with a verdict a CI job can trust.

A metric *regressed* only when all three hold:
  1. the change is in the bad direction (direction lives with the metric);
  2. it is larger than the metric's tolerance (absolute; defaults below, `--tolerance`);
  3. it is outside the noise: larger than the combined half-widths of the two 95%
     confidence intervals, sqrt(h_base² + h_cur²) (for KID, its subset std).
Noise-sized changes and improvements pass. Numbers that cannot be compared (another
resize mode, extractor, weights, reference set or CLIP model) are bad input (exit 2).

`exact=True` is for deterministic pipelines (evalkit's own CI): any relative change
beyond `rtol`, in either direction, fails, so a change that alters the numbers must
come with a deliberately updated baseline.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

from evalkit.errors import UserError

DEFAULT_TOLERANCE = {"fid": 1.0, "kid/mean": 0.001, "cmmd": 0.05, "clip_score/mean": 0.5}
# Provenance fields that must agree for two numbers to be comparable.
COMPARABLE_FIELDS = ("extractor", "weights_sha256", "resize", "reference_files_sha256", "files_sha256",
                     "clip_backend", "clip_model", "clip_pretrained", "clip_dir_sha", "kid_subset_size")


@dataclass
class Row:
    metric: str
    baseline: float
    current: float
    delta: float
    noise: float | None
    tolerance: float
    verdict: str  # regressed | improved | unchanged | within noise | within tolerance | changed


def load_metrics(path: str | Path) -> dict:
    """metrics.json of a run directory, or a metrics.json-shaped file."""
    path = Path(path)
    file = path / "metrics.json" if path.is_dir() else path
    if not file.is_file():
        raise UserError(f"no metrics at {path}: give a run directory (with metrics.json) or a metrics.json file")
    try:
        doc = json.loads(file.read_text())
        doc["metrics"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise UserError(f"{file} is not an evalkit metrics.json (no 'metrics' mapping)") from None
    return doc


def headline_keys(metrics: dict) -> list[str]:
    """fid, kid/mean, cmmd, clip_score/mean: not CIs, stds or per-category values."""
    return [k for k in metrics if k.count("/") == 0 or k in ("kid/mean", "clip_score/mean")]


def _noise(doc: dict, key: str) -> float | None:
    m = doc["metrics"]
    base = key[: -len("/mean")] if key.endswith("/mean") else key
    if f"{base}/ci95_low" in m and f"{base}/ci95_high" in m:
        return (m[f"{base}/ci95_high"] - m[f"{base}/ci95_low"]) / 2
    if f"{base}/std" in m:
        return m[f"{base}/std"]
    return None


def check_comparable(base: dict, cur: dict) -> None:
    for metric, prov in base.get("provenance", {}).items():
        other = cur.get("provenance", {}).get(metric)
        if other is None:
            continue
        for field_name in COMPARABLE_FIELDS:
            if field_name in prov and field_name in other and prov[field_name] != other[field_name]:
                raise UserError(
                    f"{metric} is not comparable: baseline {field_name} '{prov[field_name]}' vs current "
                    f"'{other[field_name]}'; score both with the same settings"
                )


def compare(base: dict, cur: dict, tolerance: dict[str, float] | None = None, exact: bool = False,
            rtol: float = 1e-3) -> list[Row]:
    check_comparable(base, cur)
    tol = {**DEFAULT_TOLERANCE, **(tolerance or {})}
    directions = {**base.get("higher_is_better", {}), **cur.get("higher_is_better", {})}
    rows = []
    for key in headline_keys(base["metrics"]):
        if key not in cur["metrics"]:
            raise UserError(f"metric {key} is in the baseline but not in the current results; score it or drop it")
        b, c = float(base["metrics"][key]), float(cur["metrics"][key])
        delta = c - b
        higher = directions.get(key.split("/")[0])
        if higher is None:
            raise UserError(f"no direction (higher/lower is better) recorded for {key}")
        worse = delta < 0 if higher else delta > 0
        hb, hc = _noise(base, key), _noise(cur, key)
        noise = math.hypot(hb, hc) if hb is not None and hc is not None else None
        t = tol.get(key, 0.0)
        if exact:
            changed = abs(delta) > rtol * max(abs(b), 1e-12)
            verdict = "changed" if changed else "unchanged"
        elif delta == 0:
            verdict = "unchanged"
        elif not worse:
            verdict = "improved"
        elif abs(delta) <= t:
            verdict = "within tolerance"
        elif noise is not None and abs(delta) <= noise:
            verdict = "within noise"
        else:
            verdict = "regressed"
        rows.append(Row(key, b, c, delta, noise, t, verdict))
    return rows


def failed(rows: list[Row]) -> bool:
    return any(r.verdict in ("regressed", "changed") for r in rows)


def markdown(rows: list[Row]) -> str:
    lines = ["| metric | baseline | current | delta | noise (±) | tolerance | verdict |",
             "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        noise = "" if r.noise is None else f"{r.noise:.4f}"
        mark = "❌ " if r.verdict in ("regressed", "changed") else ""
        lines.append(f"| {r.metric} | {r.baseline:.4f} | {r.current:.4f} | {r.delta:+.4f} | {noise} | "
                     f"{r.tolerance:g} | {mark}{r.verdict} |")
    return "\n".join(lines)


def junit_xml(rows: list[Row]) -> str:
    suite = ET.Element("testsuite", name="evalkit.compare", tests=str(len(rows)),
                       failures=str(sum(r.verdict in ("regressed", "changed") for r in rows)))
    for r in rows:
        case = ET.SubElement(suite, "testcase", classname="evalkit.metrics", name=r.metric)
        if r.verdict in ("regressed", "changed"):
            ET.SubElement(case, "failure", message=f"{r.metric} {r.verdict}: {r.baseline:.6g} -> {r.current:.6g}").text = (
                f"delta {r.delta:+.6g}, noise {r.noise}, tolerance {r.tolerance}"
            )
    return ET.tostring(suite, encoding="unicode", xml_declaration=True)


def verdict_json(rows: list[Row]) -> str:
    return json.dumps({"failed": failed(rows), "rows": [asdict(r) for r in rows]}, indent=2)


def parse_tolerances(items: list[str]) -> dict[str, float]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            raise UserError(f"bad --tolerance '{item}': use METRIC=NUMBER, e.g. fid=2.0") from None
        if not sep:
            raise UserError(f"bad --tolerance '{item}': use METRIC=NUMBER, e.g. fid=2.0")
    return out
