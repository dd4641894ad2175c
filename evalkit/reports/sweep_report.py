"""The report of a sweep (templates/sweep.*.j2): results table, FID-vs-CLIP curves,
per-category bars, an image grid (a prompt per row, runs side by side), the provenance of
every number, and warnings wherever numbers are not comparable. Runs are labelled by their
axis values (`bert · w=3`), so tables, legends and the grid fit a screen."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from evalkit.reports.plots import category_bars, fid_vs_clip
from evalkit.reports.render import b64, thumbnail_b64, write_report
from evalkit.results import Estimate, RunResults
from evalkit.store import atomic_write_bytes

GRID_PROMPTS = 12
MAX_BAR_RUNS = 12
PROVENANCE_FIELDS = ("resize", "extractor", "weights_sha256", "reference", "reference_files_sha256", "n",
                     "clip_model", "clip_weights", "fid_bootstrap")
COMPARABLE = (("resize", "resize modes"), ("reference_files_sha256", "reference sets"),
              ("weights_sha256", "Inception weights"), ("clip_model", "CLIP models"), ("extractor", "extractors"))


@dataclass(frozen=True)
class SweepRun:
    label: str
    run_id: str | None
    status: str
    error: str
    seconds: float | None
    results: RunResults | None


@dataclass(frozen=True)
class SweepReport:
    name: str
    axes: list[str]
    runs: list[SweepRun]
    columns: list[str]  # value keys shown in the table
    warnings: list[str]
    curve: str
    bars: str
    grid: list[dict]
    provenance: list[list]
    prov_fields: tuple[str, ...]
    versions: list[dict]
    plot_files: list[tuple[str, str]]  # (title, file) for report.md
    human: tuple = ()  # evalkit.human.report.HumanSection of each study attached to the sweep
    paired: dict | None = None  # paired differences vs the first run (paired_table)


def comparability_warnings(results: dict[str, RunResults]) -> list[str]:
    warnings = []
    for field_name, what in COMPARABLE:
        seen: dict[str, list[str]] = {}
        for label, r in results.items():
            for m in r.metrics.values():
                if field_name in m.provenance:
                    seen.setdefault(str(m.provenance[field_name]), []).append(label)
        if len(seen) > 1:
            warnings.append(f"runs use different {what} ({', '.join(seen)}): their numbers are not comparable")
    small = sorted({r.n_images for r in results.values() if "fid" in r.metrics and r.n_images < 2048})
    if small:
        warnings.append(f"FID from {', '.join(map(str, small))} images (< 2048): biased upward, compare only at equal N")
    for r in results.values():
        warnings += [w for w in r.warnings if "RANDOM" in w][:1]
    return list(dict.fromkeys(warnings))


def _mean(estimates: list[Estimate]) -> Estimate:
    """Seeds averaged: the mean value and mean CI bounds."""
    def avg(name):
        parts = [getattr(e, name) for e in estimates]
        return None if any(p is None for p in parts) else sum(parts) / len(parts)
    return Estimate(avg("value"), avg("low"), avg("high"), avg("std"))


def curve(runs: list[SweepRun], settings: dict[str, dict], axes: list[str]) -> bytes:
    """FID vs CLIP score over the guidance axis, one line per value of the other axes (seeds averaged)."""
    x_axis = next((a for a in axes if "guidance" in a), None)
    done = [r for r in runs if r.results and {"fid", "clip_score"} <= set(r.results.metrics)]
    if not x_axis or not done:
        return b""
    others = [a for a in axes if a not in (x_axis, "seed")]
    groups: dict[tuple, dict] = {}
    for r in done:
        s = settings[r.label]
        point = groups.setdefault(tuple(s[a] for a in others), {}).setdefault(s[x_axis], ([], []))
        point[0].append(r.results.metrics["clip_score"].values["clip_score"])
        point[1].append(r.results.metrics["fid"].values["fid"])
    from evalkit.runner.sweep import run_label

    lines = {run_label(dict(zip(others, key))) or "all runs": [(x, _mean(c), _mean(f)) for x, (c, f) in pts.items()]
             for key, pts in groups.items()}
    return fid_vs_clip(lines, x_axis.split(".")[-1], ", ".join(a.split(".")[-1] for a in others))


def bars(runs: list[SweepRun]) -> bytes:
    """The first per-category value (CLIP score, usually) of each run, side by side."""
    series = {}
    for r in runs:
        for m in (r.results.metrics.values() if r.results else ()):
            key = next((k for k, cats in m.categories.items() if cats), None)
            if key:
                series[r.label] = (key, dict(m.categories[key]))
                break
    if not series or len(series) > MAX_BAR_RUNS:
        return b""
    what = next(iter(series.values()))[0]
    return category_bars({label: cats for label, (_, cats) in series.items()}, what)


def image_grid(sweep_dir: Path, runs: list[SweepRun]) -> list[dict]:
    import pandas as pd

    done = [r for r in runs if r.results]
    samples = {r.label: pd.read_parquet(sweep_dir / "runs" / r.run_id / "samples.parquet") for r in done}
    if not done:
        return []
    rows = []
    for row in samples[done[0].label].drop_duplicates("prompt_id").head(GRID_PROMPTS).itertuples():
        cells = []
        for r in done:
            s = samples[r.label]
            match = s[(s["prompt_id"] == row.prompt_id) & (s["index"] == 0)]
            cells.append(thumbnail_b64(sweep_dir / "runs" / r.run_id / match["path"].iloc[0]) if len(match) else "")
        rows.append({"id": row.prompt_id, "text": row.text, "cells": cells})
    return rows


def paired_table(sweep_dir: Path, runs: list[SweepRun]) -> dict | None:
    """Every later run against the first finished one, on paired images where they share
    prompt ids and seeds (reports.paired): rows (run, value key, PairedValue, better) and,
    for runs that do not pair, why."""
    from evalkit.reports.paired import pair_runs, paired_values

    done = [r for r in runs if r.results]
    if len(done) < 2:
        return None
    first, rows, unpaired = done[0], [], []
    for run in done[1:]:
        pairing = pair_runs(sweep_dir / "runs" / first.run_id, sweep_dir / "runs" / run.run_id)
        if not pairing.paired:
            unpaired.append((run.label, pairing.reason))
            continue
        higher = {key: m.higher_is_better for m, key, _ in first.results.estimates()}
        rows += [(run.label, key, value, "higher" if higher[key] else "lower")
                 for key, value in paired_values(first.results, run.results, pairing).items()]
    return {"reference": first.label, "rows": rows, "unpaired": unpaired}


def _versions(sweep_dir: Path, runs: list[SweepRun]) -> list[dict]:
    out = []
    for r in (r for r in runs if r.results):
        spec = yaml.safe_load((sweep_dir / "runs" / r.run_id / "spec.yaml").read_text(encoding="utf-8"))
        v = spec.get("versions", {})
        out.append({"label": r.label, "run_id": r.run_id, "seed": spec["spec"]["seed"],
                    "ipp": spec["spec"]["images_per_prompt"], "git": spec.get("evalkit_git"),
                    "versions": ", ".join(f"{k} {v[k]}" for k in ("torch", "diffusers", "transformers", "open_clip_torch")
                                          if v.get(k))})
    return out


def _runs(sweep_dir: Path) -> tuple[dict, list[SweepRun], dict]:
    import pandas as pd

    from evalkit.runner.run_dir import load_results

    info = yaml.safe_load((sweep_dir / "sweep.yaml").read_text(encoding="utf-8"))
    frame = pd.read_parquet(sweep_dir / "results.parquet")
    axes = list(info["sweep"]["axes"])
    runs, settings = [], {}
    for row in frame.to_dict("records"):
        ok = row["status"] != "failed"
        results = load_results(sweep_dir / "runs" / row["run_id"])[0] if ok else None
        seconds = row.get("seconds")
        runs.append(SweepRun(row["label"], row.get("run_id"), row["status"], str(row.get("error") or ""),
                             None if seconds is None or seconds != seconds else float(seconds), results))
        settings[row["label"]] = {a: row[a] for a in axes}
    return info, runs, settings


def render_sweep_report(sweep_dir: str | Path) -> Path:
    from evalkit.human.report import human_sections

    sweep_dir = Path(sweep_dir)
    info, runs, settings = _runs(sweep_dir)
    axes = list(info["sweep"]["axes"])
    done = {r.label: r.results for r in runs if r.results}
    plots, files = {}, []
    for title, name, png in (("FID vs CLIP score", "report-fid-vs-clip.png", curve(runs, settings, axes)),
                             ("Per category", "report-categories.png", bars(runs))):
        plots[name] = b64(png)
        if png:
            atomic_write_bytes(sweep_dir / name, png)
            files.append((title, name))
    report = SweepReport(
        name=info["sweep"]["name"], axes=axes, runs=runs,
        columns=list(dict.fromkeys(k for r in done.values() for _, k, _ in r.estimates())),
        warnings=comparability_warnings(done), curve=plots["report-fid-vs-clip.png"],
        bars=plots["report-categories.png"], grid=image_grid(sweep_dir, runs),
        provenance=[[label, name, *(m.provenance.get(f, "") for f in PROVENANCE_FIELDS)]
                    for label, r in done.items() for name, m in r.metrics.items()],
        prov_fields=PROVENANCE_FIELDS, versions=_versions(sweep_dir, runs), plot_files=files,
        human=human_sections(sweep_dir), paired=paired_table(sweep_dir, runs),
    )
    return write_report(sweep_dir, "sweep", report)[0]
