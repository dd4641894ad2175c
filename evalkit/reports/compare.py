"""`evalkit compare BASELINE CURRENT`: metric deltas with a verdict a CI job can trust.

A value *regressed* only when all three hold:
  1. the change is in the bad direction (direction lives with the metric);
  2. it is larger than the value's tolerance (absolute; defaults below, `--tolerance`);
  3. it is outside the noise: larger than the combined half-widths of the two 95%
     confidence intervals, sqrt(h_base² + h_cur²) (for KID, its subset std).
Noise-sized changes and improvements pass.

When the two runs share prompt ids and seeds (reports/paired.py), rule 3 is instead a test
on the paired difference: the value regressed only if, besides 1 and 2, the paired test
rejects "no difference" (p < 0.05, two-sided; the prompts are resampled jointly in both
runs). Values without a paired method, and runs that do not pair, keep the rule above.
A value that is NaN, infinite or missing on
either side is *invalid*, which fails in every mode: a broken pipeline never passes.
Numbers that cannot be compared (another resize mode, extractor, weights, reference set
or CLIP model; a metric missing from the current results) are bad input (exit 2).

`exact=True` is for deterministic pipelines (evalkit's own CI): any relative change
beyond `rtol`, in either direction, fails, so a change that alters the numbers must
come with a deliberately updated baseline.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from xml.etree import ElementTree as ET

from evalkit.errors import UserError
from evalkit.results import Estimate, RunResults

DEFAULT_TOLERANCE = {"fid": 1.0, "kid": 0.001, "cmmd": 0.05, "clip_score": 0.5}
# Provenance fields that must agree for two numbers to be comparable.
# Every extractor and learned scorer records its network, weights and preprocessing here
# (metrics/extractors/*, preference.py, vqascore.py): numbers that differ in any are refused.
COMPARABLE_FIELDS = ("extractor", "weights_sha256", "resize", "reference_files_sha256", "files_sha256",
                     "clip_backend", "clip_model", "clip_pretrained", "clip_revision", "clip_processor", "clip_dir_sha",
                     "clip_weights_sha256", "clip_features", "dinov2_model", "dinov2_revision", "dinov2_commit",
                     "dinov2_dir_sha", "preprocess", "vqa_model", "vqa_revision", "vqa_commit", "vqa_dir_sha",
                     "vqa_question_template", "vqa_answer_template", "kid_subset_size")
FAILING = ("regressed", "changed", "invalid")


@dataclass
class Row:
    metric: str
    baseline: float | None
    current: float | None
    delta: float | None
    noise: float | None
    tolerance: float
    verdict: str  # regressed | improved | unchanged | within noise | within tolerance | changed | invalid
    test: str = "unpaired"  # or the paired method
    low: float | None = None  # the paired difference's 95% CI and p-value
    high: float | None = None
    p_value: float | None = None


def check_comparable(base: RunResults, cur: RunResults) -> None:
    for name, metric in base.metrics.items():
        other = cur.metrics.get(name)
        if other is None:
            continue
        for field_name in COMPARABLE_FIELDS:
            ours, theirs = metric.provenance.get(field_name), other.provenance.get(field_name)
            if ours is not None and theirs is not None and ours != theirs:
                raise UserError(f"{name} is not comparable: baseline {field_name} '{ours}' vs current "
                                f"'{theirs}'; score both with the same settings")


def _verdict(b: Estimate, c: Estimate, higher: bool, tol: float, exact: bool, rtol: float) -> tuple[str, float | None]:
    if not (b.finite and c.finite):
        return "invalid", None
    delta = c.value - b.value
    hb, hc = b.half_width, c.half_width
    noise = math.hypot(hb, hc) if hb is not None and hc is not None else None
    if exact:
        return ("changed" if abs(delta) > rtol * max(abs(b.value), 1e-12) else "unchanged"), noise
    worse = delta < 0 if higher else delta > 0
    if delta == 0:
        return "unchanged", noise
    if not worse:
        return "improved", noise
    if abs(delta) <= tol:
        return "within tolerance", noise
    if noise is not None and abs(delta) <= noise:
        return "within noise", noise
    return "regressed", noise


def _paired_row(key: str, b: Estimate, c: Estimate, higher: bool, tol: float, pv) -> Row:
    """The verdict on a paired difference (reports.paired.PairedValue, current - baseline)."""
    worse = pv.delta < 0 if higher else pv.delta > 0
    if pv.delta == 0:
        verdict = "unchanged"
    elif not worse:
        verdict = "improved"
    elif abs(pv.delta) <= tol:
        verdict = "within tolerance"
    elif not pv.p_value < PAIRED_ALPHA:
        verdict = "within noise"
    else:
        verdict = "regressed"
    return Row(key, b.value, c.value, pv.delta, (pv.high - pv.low) / 2, tol, verdict,
               f"{pv.method}, {pv.prompts} prompts", pv.low, pv.high, pv.p_value)


PAIRED_ALPHA = 0.05


def compare(base: RunResults, cur: RunResults, tolerance: dict[str, float] | None = None, exact: bool = False,
            rtol: float = 1e-3, paired: dict | None = None) -> list[Row]:
    """Rows of verdicts; `paired` (reports.paired.paired_values) holds the paired difference of
    the values that have one, when the runs share prompt ids and seeds."""
    check_comparable(base, cur)
    tol = {**DEFAULT_TOLERANCE, **(tolerance or {})}
    rows = []
    current = cur.estimates_by_key()
    for metric, key, b in base.estimates():
        if key not in current:
            raise UserError(f"metric {key} is in the baseline but not in the current results; score it or drop it")
        c = current[key]
        pv = (paired or {}).get(key)
        if pv is not None and not exact and b.finite and c.finite and math.isfinite(pv.delta):
            rows.append(_paired_row(key, b, c, metric.higher_is_better, tol.get(key, 0.0), pv))
            continue
        verdict, noise = _verdict(b, c, metric.higher_is_better, tol.get(key, 0.0), exact, rtol)
        delta = c.value - b.value if verdict != "invalid" else None
        rows.append(Row(key, b.value, c.value, delta, noise, tol.get(key, 0.0), verdict))
    if not rows:
        raise UserError("the baseline has no metric values to compare")
    return rows


def failed(rows: list[Row]) -> bool:
    return any(r.verdict in FAILING for r in rows)


def _num(x: float | None, spec: str = ".4f") -> str:
    return "n/a" if x is None or not math.isfinite(x) else format(x, spec)


def markdown(rows: list[Row]) -> str:
    lines = ["| metric | baseline | current | delta | noise (±) | tolerance | verdict | test |",
             "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for r in rows:
        mark = "❌ " if r.verdict in FAILING else ""
        noise = "" if r.noise is None else _num(r.noise)
        lines.append(f"| {r.metric} | {_num(r.baseline)} | {_num(r.current)} | {_num(r.delta, '+.4f')} | {noise} | "
                     f"{r.tolerance:g} | {mark}{r.verdict} | {method_text(r)} |")
    return "\n".join(lines)


def method_text(r: Row) -> str:
    """How the verdict was reached: the paired difference's CI and p-value, or the CI-overlap rule."""
    if r.p_value is None:
        return "unpaired: CI overlap"
    return f"{r.test}: delta 95% CI [{_num(r.low, '+.4f')}, {_num(r.high, '+.4f')}], p = {r.p_value:.3g}"


def junit_xml(rows: list[Row]) -> str:
    suite = ET.Element("testsuite", name="evalkit.compare", tests=str(len(rows)),
                       failures=str(sum(r.verdict in FAILING for r in rows)))
    for r in rows:
        case = ET.SubElement(suite, "testcase", classname="evalkit.metrics", name=r.metric)
        if r.verdict in FAILING:
            ET.SubElement(case, "failure", message=f"{r.metric} {r.verdict}: {_num(r.baseline, '.6g')} -> "
                                                   f"{_num(r.current, '.6g')}").text = (
                f"delta {_num(r.delta, '+.6g')}, noise {r.noise}, tolerance {r.tolerance}; {method_text(r)}"
            )
    return ET.tostring(suite, encoding="unicode", xml_declaration=True)


def verdict_json(rows: list[Row]) -> str:
    clean = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(r).items()} for r in rows]
    return json.dumps({"failed": failed(rows), "rows": clean}, indent=2)


def parse_tolerances(items: list[str]) -> dict[str, float]:
    """`fid=2.0` (repeatable); `kid/mean` and `clip_score/mean` are accepted for kid and clip_score."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = None
        if not sep or number is None or not math.isfinite(number) or number < 0:
            raise UserError(f"bad --tolerance '{item}': use METRIC=NUMBER (a number >= 0), e.g. fid=2.0")
        key = key.strip()
        out[key[: -len("/mean")] if key.endswith("/mean") else key] = number
    return out
