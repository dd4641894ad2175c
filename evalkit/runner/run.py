"""One run: suite -> generator -> run directory -> metrics -> report (DESIGN §1).

Started by a launcher as several processes (DESIGN §7, docs/scale-out.md), the run is
shared: each process makes every world_size-th missing batch of images and extracts a
share of the features; every process computes the metrics from the gathered features;
only the main process writes spec.yaml, samples.parquet, metrics.json and the report.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from evalkit import registry
from evalkit.config import BenchmarkSpec
from evalkit.options import call_with_options
from evalkit.runner import distributed
from evalkit.runner.generate import generate_missing, missing_batches
from evalkit.runner.provenance import git_revision, library_versions
from evalkit.runner.samples import build_samples, write_parquet
from evalkit.seeds import image_seed
from evalkit.store import RunStore, atomic_write_json, atomic_write_text
from evalkit.types import GenerationConfig, ImageJob

log = logging.getLogger("evalkit")


@dataclass
class RunSummary:
    run_dir: Path
    images_total: int = 0
    images_made: int = 0
    features_extracted: int = 0
    metrics: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    seconds: dict = field(default_factory=dict)
    processes: int = 1  # how many processes shared the run
    is_main: bool = True  # false on the other processes: they should not print the summary


def load_prompts(spec: BenchmarkSpec):
    load = registry.resolve("suite", spec.suite.name)
    return call_with_options("suite", spec.suite.name, load, spec.suite.options)


def make_jobs(spec: BenchmarkSpec, prompts) -> list[ImageJob]:
    return [
        ImageJob(p, i, image_seed(spec.seed, p.id, i))
        for p in prompts
        for i in range(spec.images_per_prompt)
    ]


def make_generator(spec: BenchmarkSpec):
    cls = registry.resolve("generator", spec.generator.name)
    return call_with_options("generator", spec.generator.name, cls, spec.generator.options)


def write_spec(store: RunStore, spec: BenchmarkSpec) -> None:
    resolved = {
        "run_id": spec.run_id,
        "spec": spec.model_dump(mode="json"),
        "evalkit_git": git_revision(),
        "versions": library_versions(),
    }
    atomic_write_text(store.root / "spec.yaml", yaml.safe_dump(resolved, sort_keys=False, allow_unicode=True))


def run_benchmark(spec: BenchmarkSpec, out_root: str | Path = "runs") -> RunSummary:
    """Generate, score and report one run; resumes. Under a launcher, every process calls it."""
    from evalkit.reports.render import render_run_report
    from evalkit.runner.score import ScoringContext, compute_metrics

    procs = distributed.current()
    store = RunStore(Path(out_root) / spec.run_id)
    summary = RunSummary(store.root, processes=procs.world_size, is_main=procs.is_main)
    # Main first: no process may write before a crash's temporaries are cleared.
    procs.run(lambda: _prepare(store, spec, procs.world_size), here=procs.is_main)

    t = time.perf_counter()
    jobs = make_jobs(spec, procs.first_on_local_main(lambda: load_prompts(spec)))
    summary.images_total = len(jobs)
    generator = procs.first_on_local_main(lambda: make_generator(spec))  # cheap: models load on first generate()
    config = GenerationConfig(**spec.generation.model_dump())
    todo = procs.run(lambda: missing_batches(store, jobs, generator.batch_size), here=procs.is_main, gather=True)[0]
    made = procs.run(
        lambda: generate_missing(store, generator, jobs, config, procs.rank, procs.world_size, todo), gather=True
    )
    summary.images_made = sum(made)
    samples = procs.run(lambda: _write_samples(store, jobs, generator), here=procs.is_main, gather=True)[0]
    summary.seconds["generate"] = time.perf_counter() - t

    t = time.perf_counter()
    ctx = ScoringContext(store, samples, spec, procs)
    results = compute_metrics(ctx)
    summary.features_extracted = ctx.features_extracted
    metrics_doc = {
        "run_id": spec.run_id,
        "n_images": len(samples),
        "n_prompts": int(samples["prompt_id"].nunique()),
        "metrics": {k: v for r in results.values() for k, v in r.values.items()},
        "higher_is_better": {name: registry.resolve("metric", name).higher_is_better for name in results},
        "provenance": {name: r.provenance for name, r in results.items()},
        "warnings": [w for r in results.values() for w in r.warnings],
    }
    procs.run(lambda: _write_metrics(store, metrics_doc, results), here=procs.is_main)
    summary.metrics = metrics_doc["metrics"]
    summary.warnings = metrics_doc["warnings"]
    summary.seconds["score"] = time.perf_counter() - t

    t = time.perf_counter()
    procs.run(lambda: render_run_report(store.root), here=procs.is_main)  # also: all leave together
    summary.seconds["report"] = time.perf_counter() - t
    return summary


def _prepare(store: RunStore, spec: BenchmarkSpec, world_size: int) -> None:
    store.root.mkdir(parents=True, exist_ok=True)
    store.remove_stale_temporaries()
    write_spec(store, spec)
    device = str(spec.generator.options.get("device", ""))
    if world_size > 1 and device.startswith("cuda:"):
        log.warning("generator device %s puts every process on one GPU; use device: cuda (each process's own)", device)


def _write_samples(store: RunStore, jobs: list[ImageJob], generator):
    samples = build_samples(store, jobs, generator.fingerprint())
    write_parquet(store.root / "samples.parquet", samples)
    return samples


def _write_metrics(store: RunStore, metrics_doc: dict, results: dict) -> None:
    atomic_write_json(store.root / "metrics.json", metrics_doc)
    per_sample = [r.per_sample for r in results.values() if r.per_sample is not None]
    if per_sample:
        write_parquet(store.root / "per_sample.parquet", _merge_per_sample(per_sample))


def _merge_per_sample(frames):
    merged = frames[0]
    for frame in frames[1:]:
        merged = merged.merge(frame, on=["prompt_id", "index"], how="outer", suffixes=("", "_dup"))
        merged = merged[[c for c in merged.columns if not c.endswith("_dup")]]
    return merged
