"""Sweeps: a base benchmark spec plus axes, expanded into ordinary runs.

    name: ablation
    base: benchmarks/encoder-ablation-tiny.yaml   # a path (relative to this file) or a mapping
    axes:
      generator.encoder: [bert, t5, clip]         # dotted paths into the base spec
      generation.guidance_scale: [1, 3, 5]
      seed: [0, 1]

Every combination is a normal run directory under <out>/<sweep name>/runs/. Finished
runs (same spec, metrics written) are skipped; a failed run is recorded and the rest
go on. `results.parquet` / `results.csv` hold one row per run: settings and metrics.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evalkit.config import BenchmarkSpec, parse_spec
from evalkit.errors import UserError


class SweepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    base: str | dict[str, Any]
    axes: dict[str, list[Any]]


@dataclass
class PlannedRun:
    settings: dict[str, Any]
    spec: BenchmarkSpec


@dataclass
class SweepResult:
    sweep_dir: Path
    rows: list[dict] = field(default_factory=list)

    @property
    def failed(self) -> list[dict]:
        return [r for r in self.rows if r["status"] == "failed"]


def load_sweep(path: str | Path) -> tuple[SweepSpec, dict]:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"sweep file not found: {path}")
    try:
        sweep = SweepSpec.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (ValidationError, yaml.YAMLError) as err:
        first = err.errors()[0] if isinstance(err, ValidationError) else {"loc": (), "msg": str(err).splitlines()[0]}
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise UserError(f"{path}: {where}: {first['msg']}") from None
    if isinstance(sweep.base, str):
        base_path = (path.parent / sweep.base) if not Path(sweep.base).is_absolute() else Path(sweep.base)
        if not base_path.is_file():
            raise UserError(f"{path}: base spec not found: {base_path} (paths are relative to the sweep file)")
        base = yaml.safe_load(base_path.read_text(encoding="utf-8"))
    else:
        base = dict(sweep.base)
    if not sweep.axes or any(not values for values in sweep.axes.values()):
        raise UserError(f"{path}: every axis needs at least one value")
    return sweep, base


def _set(tree: dict, dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    node = tree
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[keys[-1]] = value


def _label(settings: dict[str, Any]) -> str:
    """`model_builtin_tiny-imagen-bert-guidance_scale_3.0`: safe in a run id and a folder name."""
    parts = [f"{k.split('.')[-1]}_{v}" for k, v in settings.items()]
    return re.sub(r"[^A-Za-z0-9._-]+", "_", "-".join(parts))


def expand(sweep: SweepSpec, base: dict) -> list[PlannedRun]:
    """Every combination of axis values applied to a copy of the base spec."""
    runs = []
    for values in itertools.product(*sweep.axes.values()):
        settings = dict(zip(sweep.axes, values))
        data = copy.deepcopy(base)
        for dotted, value in settings.items():
            _set(data, dotted, value)
        data["name"] = f"{sweep.name}-{_label(settings)}"
        runs.append(PlannedRun(settings, parse_spec(data, source=f"sweep {sweep.name} run {settings}")))
    return runs


def is_finished(run_dir: Path, spec: BenchmarkSpec) -> bool:
    """A run whose spec.yaml matches and whose metrics and report were written."""
    try:
        recorded = yaml.safe_load((run_dir / "spec.yaml").read_text())["spec"]
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        return False
    return (run_dir / "metrics.json").is_file() and (run_dir / "report.html").is_file() \
        and recorded == spec.model_dump(mode="json")


def run_sweep(sweep: SweepSpec, base: dict, out_root: str | Path = "runs") -> SweepResult:
    import pandas as pd

    from evalkit.progress import progress
    from evalkit.runner.run import run_benchmark
    from evalkit.runner.samples import write_parquet
    from evalkit.store import atomic_write_text

    from evalkit.runner.distributed import current

    # Under accelerate/torchrun every run is sharded across all processes (run_benchmark
    # does that); the main process alone decides what is finished and writes sweep files.
    procs = current()
    sweep_dir = Path(out_root) / sweep.name
    runs_root = sweep_dir / "runs"
    planned = expand(sweep, base)
    result = SweepResult(sweep_dir)
    if procs.is_main:
        atomic_write_text(sweep_dir / "sweep.yaml", yaml.safe_dump(
            {"sweep": sweep.model_dump(mode="json"), "runs": [{"run_id": p.spec.run_id, **p.settings} for p in planned]},
            sort_keys=False,
        ))
    shown = progress(planned, desc=f"sweep {sweep.name}", unit="run") if procs.is_main else planned
    for plan in shown:
        run_dir = runs_root / plan.spec.run_id
        row = {"run_id": plan.spec.run_id, **plan.settings}
        if procs.run(lambda: is_finished(run_dir, plan.spec), here=procs.is_main, gather=True)[0]:
            row["status"] = "skipped"
        else:
            try:
                summary = run_benchmark(plan.spec, runs_root)
                row["status"] = "ok"
                row["seconds"] = sum(summary.seconds.values())
            except Exception as err:  # a failed run is recorded; the sweep goes on
                row["status"] = "failed"
                row["error"] = f"{type(err).__name__}: {err}"
                if procs.is_main:
                    atomic_write_text(run_dir / "error.txt", traceback.format_exc())
        metrics_path = run_dir / "metrics.json"
        if row["status"] != "failed" and metrics_path.is_file():
            row.update(json.loads(metrics_path.read_text())["metrics"])
        result.rows.append(row)
    if procs.is_main:
        frame = pd.DataFrame(result.rows)
        write_parquet(sweep_dir / "results.parquet", frame)
        atomic_write_text(sweep_dir / "results.csv", frame.to_csv(index=False))
    procs.barrier()
    return result
