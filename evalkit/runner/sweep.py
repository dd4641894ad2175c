"""Sweeps: a base benchmark spec plus axes, expanded into ordinary runs.

    name: ablation
    base: benchmarks/encoder-ablation-tiny.yaml   # a path (relative to this file) or a mapping
    axes:
      generator.encoder: [bert, t5, clip]         # dotted paths into the base spec
      generation.guidance_scale: [1, 3, 5]
      seed: [0, 1]

Every combination is a normal run directory under <out>/<sweep name>/runs/, labelled by
its axis values (`bert · w=3`). All runs are planned (prompts loaded, generators checked)
before the first image is made; a run that fails its plan or its run is recorded and the
rest go on. `results.parquet` / `results.csv` hold one row per run: settings and metrics.
"""

from __future__ import annotations

import copy
import itertools
import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evalkit.config import NAME_PATTERN, BenchmarkSpec, parse_spec
from evalkit.errors import UserError
from evalkit.options import describe_error
from evalkit.yaml_io import read_yaml

SHORT_AXIS = {"guidance_scale": "w", "num_inference_steps": "steps", "images_per_prompt": "n"}


class SweepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    name: str = Field(pattern=NAME_PATTERN, max_length=40)
    base: str | dict[str, Any]
    axes: dict[str, list[Any]] = Field(min_length=1)


@dataclass
class PlannedRun:
    settings: dict[str, Any]
    spec: BenchmarkSpec
    label: str


@dataclass
class SweepResult:
    sweep_dir: Path
    rows: list[dict] = field(default_factory=list)

    @property
    def failed(self) -> list[dict]:
        return [r for r in self.rows if r["status"] == "failed"]


def load_sweep(path: str | Path) -> tuple[SweepSpec, dict]:
    path = Path(path)
    data = read_yaml(path, "sweep", "e.g. benchmarks/encoder-ablation-sweep-tiny.yaml")
    if not isinstance(data, dict):
        raise UserError(f"{path}: a sweep must be a YAML mapping with name, base and axes")
    try:
        sweep = SweepSpec.model_validate(data)
    except ValidationError as err:
        raise UserError(f"{path}: {describe_error(err, SweepSpec)}") from None
    if isinstance(sweep.base, str):
        base_path = (path.parent / sweep.base) if not Path(sweep.base).is_absolute() else Path(sweep.base)
        base = read_yaml(base_path, "base spec", "paths are relative to the sweep file")
        if not isinstance(base, dict):
            raise UserError(f"{base_path}: the base spec must be a YAML mapping")
    else:
        base = dict(sweep.base)
    for axis, values in sweep.axes.items():
        if not values:
            raise UserError(f"{path}: axes.{axis}: needs at least one value")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", axis):
            raise UserError(f"{path}: axes.{axis}: not a dotted path into the spec (e.g. generation.guidance_scale)")
    return sweep, base


def _set(tree: dict, dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    node = tree
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[keys[-1]] = value


def _slug(settings: dict[str, Any]) -> str:
    """`path_builtin_tiny-imagen-bert-guidance_scale_3.0`: safe in a run id and a folder name."""
    parts = [f"{k.split('.')[-1]}_{v}" for k, v in settings.items()]
    return re.sub(r"[^A-Za-z0-9._-]+", "_", "-".join(parts))[:60].strip("._-") or "run"


def run_label(settings: dict[str, Any]) -> str:
    """A short label from axis values: model refs by their last part, numbers as key=value."""
    parts = []
    for axis, value in settings.items():
        key = axis.split(".")[-1]
        if isinstance(value, str):
            parts.append(re.split(r"[:/]", value)[-1] or value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            parts.append(f"{SHORT_AXIS.get(key, key)}={value:g}")
        else:
            parts.append(f"{key}={value}")
    return " · ".join(parts)


def expand(sweep: SweepSpec, base: dict) -> list[PlannedRun]:
    """Every combination of axis values applied to a copy of the base spec."""
    runs = []
    for values in itertools.product(*sweep.axes.values()):
        settings = dict(zip(sweep.axes, values))
        data = copy.deepcopy(base)
        for dotted, value in settings.items():
            _set(data, dotted, value)
        data["name"] = f"{sweep.name}-{_slug(settings)}"
        runs.append(PlannedRun(settings, parse_spec(data, source=f"sweep {sweep.name} run {run_label(settings)}"),
                               run_label(settings)))
    return runs


def is_finished(run_dir: Path, spec: BenchmarkSpec) -> bool:
    """A run whose spec.yaml matches and whose metrics and report were written."""
    from evalkit.runner.run_dir import recorded_spec
    from evalkit.store import RunStore

    return (run_dir / "metrics.json").is_file() and (run_dir / "report.html").is_file() \
        and recorded_spec(RunStore(run_dir)) == spec.dump()


def _failed(row: dict, err: Exception, run_dir: Path | None, procs) -> dict:
    row.update(status="failed", error=f"{type(err).__name__}: {err}")
    if run_dir is not None and procs.is_main:
        from evalkit.store import atomic_write_text

        atomic_write_text(run_dir / "error.txt", traceback.format_exc())
    return row


def plan_all(planned: list[PlannedRun], procs) -> list[tuple[PlannedRun, Any, dict]]:
    """(run, plan or None, row) for every run: every check happens before any image is made."""
    from evalkit.runner.run import plan_run

    out = []
    for p in planned:
        row = {"run_id": None, "label": p.label, **p.settings}
        try:
            plan = procs.first_on_local_main(lambda p=p: plan_run(p.spec))
            row["run_id"] = plan.run_id
        except Exception as err:  # recorded; the other runs go on
            plan = None
            _failed(row, err, None, procs)
        out.append((p, plan, row))
    return out


def run_sweep(sweep: SweepSpec, base: dict, out_root: str | Path = "runs") -> SweepResult:
    from evalkit.progress import progress
    from evalkit.runner.distributed import current
    from evalkit.runner.run import run_plan

    procs = current()  # under accelerate/torchrun every run is sharded across all processes
    sweep_dir = Path(out_root) / sweep.name
    result = SweepResult(sweep_dir)
    planned = plan_all(expand(sweep, base), procs)
    procs.run(lambda: _write_sweep_file(sweep_dir, sweep, planned), here=procs.is_main)
    shown = progress(planned, desc=f"sweep {sweep.name}", unit="run") if procs.is_main else planned
    for run, plan, row in shown:
        if plan is not None:
            run_dir = sweep_dir / "runs" / plan.run_id
            if procs.run(lambda: is_finished(run_dir, run.spec), here=procs.is_main, gather=True)[0]:
                row["status"] = "skipped"
            else:
                try:
                    summary = run_plan(plan, sweep_dir / "runs")
                    row.update(status="ok", seconds=sum(summary.seconds.values()))
                except Exception as err:  # a failed run is recorded; the sweep goes on
                    _failed(row, err, run_dir, procs)
        result.rows.append(row)
    procs.run(lambda: _write_results(sweep_dir, result.rows), here=procs.is_main)
    procs.barrier()
    return result


def _write_sweep_file(sweep_dir: Path, sweep: SweepSpec, planned) -> None:
    import yaml

    from evalkit.store import atomic_write_text

    runs = [{"run_id": row["run_id"], "label": row["label"], **run.settings} for run, _, row in planned]
    atomic_write_text(sweep_dir / "sweep.yaml", yaml.safe_dump({"sweep": sweep.model_dump(mode="json"), "runs": runs},
                                                               sort_keys=False, allow_unicode=True))


def _write_results(sweep_dir: Path, rows: list[dict]) -> None:
    import pandas as pd

    from evalkit.runner.run_dir import load_results
    from evalkit.runner.samples import write_parquet
    from evalkit.store import atomic_write_text

    for row in rows:
        if row["status"] != "failed":
            row.update(load_results(sweep_dir / "runs" / row["run_id"])[0].flat())
    frame = pd.DataFrame(rows)
    write_parquet(sweep_dir / "results.parquet", frame)
    atomic_write_text(sweep_dir / "results.csv", frame.to_csv(index=False))
