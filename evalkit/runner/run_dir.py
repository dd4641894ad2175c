"""What a run directory records, kept consistent: spec.yaml says what the run is, and
metrics.json, per_sample.parquet and the report are always the results of that spec.

When a run directory is reused with a different spec (say, other metrics), the old
results are removed before the new spec.yaml is written, so a crash in between leaves a
run without results, never a new spec beside old numbers. metrics.json records the
sha256 of the spec it was computed from, and readers check it.
"""

from __future__ import annotations

import hashlib
import json
import logging

import yaml

from evalkit.errors import UserError
from evalkit.results import RunResults
from evalkit.runner.provenance import git_revision, library_versions
from evalkit.store import RunStore, atomic_write_json, atomic_write_text

log = logging.getLogger("evalkit")
RESULT_FILES = ("metrics.json", "per_sample.parquet", "report.html", "report.md")


def spec_sha(spec_doc: dict) -> str:
    return hashlib.sha256(json.dumps(spec_doc, sort_keys=True).encode()).hexdigest()


def recorded_spec(store: RunStore) -> dict | None:
    """The `spec` section of the run's spec.yaml, or None when there is none (or it is unreadable)."""
    try:
        return yaml.safe_load((store.root / "spec.yaml").read_text(encoding="utf-8"))["spec"]
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        return None


def prepare(store: RunStore, plan, world_size: int) -> None:
    store.root.mkdir(parents=True, exist_ok=True)
    store.remove_stale_temporaries()
    spec = plan.spec.dump()
    if recorded_spec(store) != spec:
        for name in RESULT_FILES:
            (store.root / name).unlink(missing_ok=True)
        for plot in store.root.glob("report-*.png"):
            plot.unlink()
    resolved = {"run_id": plan.run_id, "spec": spec, "evalkit_git": git_revision(), "versions": library_versions()}
    atomic_write_text(store.root / "spec.yaml", yaml.safe_dump(resolved, sort_keys=False, allow_unicode=True))
    device = str(getattr(plan.generator.options, "device", ""))
    if world_size > 1 and device.startswith("cuda:"):
        log.warning("generator device %s puts every process on one GPU; use device: cuda (each process's own)", device)


def write_metrics(store: RunStore, results: RunResults) -> None:
    per_sample = [m.per_sample for m in results.metrics.values() if m.per_sample is not None]
    if per_sample:
        from evalkit.runner.samples import write_parquet

        write_parquet(store.root / "per_sample.parquet", _merge(per_sample))
    doc = {**results.to_json(), "spec_sha256": spec_sha(recorded_spec(store))}
    # In the spec's metric order (reports list them so); written last: its presence means the results are whole.
    atomic_write_json(store.root / "metrics.json", doc, sort_keys=False)


def _merge(frames):
    merged = frames[0]
    for frame in frames[1:]:
        merged = merged.merge(frame, on=["prompt_id", "index"], how="outer", suffixes=("", "_dup"))
        merged = merged[[c for c in merged.columns if not c.endswith("_dup")]]
    return merged


def load_results(path) -> tuple[RunResults, dict]:
    """RunResults of a run directory or a metrics.json file (either schema), and the raw document.

    A run whose metrics.json belongs to another spec than its spec.yaml (an interrupted
    re-run) is refused."""
    from pathlib import Path

    path = Path(path)
    file = path / "metrics.json" if path.is_dir() else path
    if not file.is_file():
        raise UserError(f"no metrics at {path}: give a finished run directory (with metrics.json) or a metrics.json file")
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
        results = RunResults.from_json(doc)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UserError(f"{file} is not valid JSON (truncated?); re-run the benchmark to rewrite it") from None
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise UserError(f"{file} is not an evalkit metrics.json ({type(err).__name__}: {err})") from None
    recorded = doc.get("spec_sha256")
    if recorded and file.parent.joinpath("spec.yaml").is_file():
        current = recorded_spec(RunStore(file.parent))
        if current is not None and spec_sha(current) != recorded:
            raise UserError(f"{file} was computed for another spec than {file.parent / 'spec.yaml'} "
                            "(an interrupted re-run); re-run the benchmark to finish it")
    return results, doc
