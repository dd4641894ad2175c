"""A run directory's report.html (self-contained) and report.md, from templates/run.*.j2.

Reads only what earlier stages wrote (spec.yaml, metrics.json, samples.parquet), so a
report can be re-rendered without the models.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from evalkit.reports.render import THUMBNAIL, b64, thumbnail_b64, write_report
from evalkit.results import Estimate, RunResults
from evalkit.store import atomic_write_bytes


@dataclass(frozen=True)
class MetricRow:
    name: str
    estimate: Estimate
    better: str  # "higher" | "lower"


@dataclass(frozen=True)
class CategoryTable:
    title: str  # the value's key, e.g. clip_score
    rows: list  # MetricRow-like: name (the category), estimate
    plot: str  # PNG, base64
    plot_file: str  # the same PNG beside the report, for report.md


@dataclass(frozen=True)
class CategoryMatrix:
    """Every value that has per-category estimates (columns) for every category (rows)."""

    columns: list  # MetricRow-like: name (the value key), better
    rows: list  # (category, [Estimate or None per column])


@dataclass(frozen=True)
class RunReport:
    run_id: str
    n_images: int
    n_prompts: int
    warnings: list[str]
    metrics: list[MetricRow]
    categories: list[CategoryTable]
    matrix: CategoryMatrix
    provenance: dict
    grid: list
    spec_yaml: str
    human: tuple = ()  # evalkit.human.report.HumanSection of each study attached to the run
    thumb: int = THUMBNAIL


def metric_rows(results: RunResults) -> list[MetricRow]:
    return [MetricRow(key, e, "higher" if m.higher_is_better else "lower") for m, key, e in results.estimates()]


def category_tables(results: RunResults, folder: Path) -> list[CategoryTable]:
    """One table (and bar plot, written beside the report) per value that has per-category estimates."""
    from evalkit.reports.plots import category_bars

    tables = []
    for metric in results.metrics.values():
        for key, cats in metric.categories.items():
            if not cats:
                continue
            png = category_bars({results.run_id: dict(cats)}, key)
            plot_file = f"report-{key}-categories.png"
            atomic_write_bytes(folder / plot_file, png)
            rows = [MetricRow(c, e, "") for c, e in cats.items()]
            tables.append(CategoryTable(key, rows, b64(png), plot_file))
    return tables


def category_matrix(results: RunResults) -> CategoryMatrix:
    """All families side by side per category: each value's estimate (with its CI and N)."""
    columns, cells = [], []
    for metric in results.metrics.values():
        for key, cats in metric.categories.items():
            if cats:
                columns.append(MetricRow(key, metric.values.get(key), "higher" if metric.higher_is_better else "lower"))
                cells.append(cats)
    names = sorted({c for cats in cells for c in cats})
    return CategoryMatrix(columns, [(c, [cats.get(c) for cats in cells]) for c in names])


def image_grid(run_dir: Path, samples, per_category: int) -> list[tuple[str, list[dict]]]:
    grid = []
    samples = samples.assign(category=samples["category"].fillna("(no category)"))
    for cat, group in samples.groupby("category", sort=True):
        prompts = []
        for prompt_id in list(dict.fromkeys(group["prompt_id"]))[:per_category]:
            rows = group[group["prompt_id"] == prompt_id].sort_values("index")
            images = [{"seed": int(r.seed), "path": r.path, "data": thumbnail_b64(run_dir / r.path)} for r in rows.itertuples()]
            prompts.append({"id": prompt_id, "text": rows["text"].iloc[0], "images": images})
        grid.append((cat, prompts))
    return grid


def render_run_report(run_dir: str | Path) -> tuple[Path, Path]:
    import pandas as pd

    from evalkit.human.report import human_sections
    from evalkit.runner.run_dir import load_results

    run_dir = Path(run_dir)
    results, _ = load_results(run_dir)
    spec_yaml = (run_dir / "spec.yaml").read_text(encoding="utf-8")
    per_category = yaml.safe_load(spec_yaml)["spec"].get("report", {}).get("images_per_category", 4)
    report = RunReport(
        run_id=results.run_id, n_images=results.n_images, n_prompts=results.n_prompts,
        warnings=results.warnings, metrics=metric_rows(results), categories=category_tables(results, run_dir),
        matrix=category_matrix(results),
        provenance={name: dict(m.provenance) for name, m in results.metrics.items()},
        grid=image_grid(run_dir, pd.read_parquet(run_dir / "samples.parquet"), per_category), spec_yaml=spec_yaml,
        human=human_sections(run_dir),
    )
    return write_report(run_dir, "run", report)
