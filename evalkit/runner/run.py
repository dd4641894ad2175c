"""One run: suite -> generator -> run directory -> metrics -> report (DESIGN §1).

The run directory is keyed by content: its id hashes the spec's generation part, the
resolved prompts (ids and texts) and the generator's fingerprint (model content hashes),
so editing a prompt file or a model folder starts a new run instead of relabelling old
images. Everything that can fail is checked before the first image is made.

Started by a launcher as several processes (docs/scale-out.md), the run is shared: each
process makes every world_size-th missing batch of images and extracts a share of the
features; every process computes the metrics from the gathered features; only the main
process writes spec.yaml, samples.parquet, metrics.json and the report.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from evalkit.config import BenchmarkSpec, check_reference_files
from evalkit.devices import check_device
from evalkit.errors import UserError
from evalkit.results import RunResults
from evalkit.runner import distributed
from evalkit.runner.generate import generate_missing, missing_batches, verify_images
from evalkit.runner.run_dir import prepare, write_metrics
from evalkit.runner.samples import build_samples, write_parquet
from evalkit.seeds import image_seed
from evalkit.store import RunStore
from evalkit.suites.base import check_prompts
from evalkit.types import GenerationConfig, ImageJob, Prompt

log = logging.getLogger("evalkit")


@dataclass
class RunSummary:
    run_dir: Path
    images_total: int = 0
    images_made: int = 0
    images_remade: int = 0  # on disk but no longer matching their recorded sha256
    features_extracted: int = 0
    results: RunResults | None = None
    seconds: dict = field(default_factory=dict)
    processes: int = 1  # how many processes shared the run
    is_main: bool = True  # false on the other processes: they should not print the summary


@dataclass(frozen=True)
class RunPlan:
    """A spec resolved against what it points at: prompts, a checked generator, the run id."""

    spec: BenchmarkSpec
    prompts: tuple[Prompt, ...]
    generator: object
    run_id: str

    @property
    def jobs(self) -> list[ImageJob]:
        n = self.spec.images_per_prompt
        return [ImageJob(p, i, image_seed(self.spec.seed, p.id, i)) for p in self.prompts for i in range(n)]


def run_key(spec: BenchmarkSpec, prompts, fingerprint: dict) -> str:
    """8 hex digits over everything that decides the images."""
    h = hashlib.sha256(spec.generation_key().encode())
    for p in prompts:
        h.update(json.dumps([p.id, p.text, p.category]).encode())
    h.update(json.dumps(fingerprint, sort_keys=True, default=str).encode())
    return h.hexdigest()[:8]


def plan_run(spec: BenchmarkSpec) -> RunPlan:
    """Check the reference and the metrics' devices, load and check the prompts, build and
    check the generator (no weights yet): everything that can fail before the first image."""
    check_reference_files(spec.reference)
    for key, metric in spec.metrics.items():
        device = getattr(metric.options, "device", None)
        if device is not None:
            try:
                check_device(device)
            except UserError as err:
                raise UserError(f"metrics.{key}.device: {err}") from None
    prompts = tuple(check_prompts(spec.suite.build().prompts(), spec.suite.name))
    generator = spec.generator.build()
    generator.check(GenerationConfig(**spec.generation.model_dump()))
    return RunPlan(spec, prompts, generator, f"{spec.name}-{run_key(spec, prompts, generator.fingerprint())}")


def run_benchmark(spec: BenchmarkSpec, out_root: str | Path = "runs") -> RunSummary:
    """Generate, score and report one run; resumes. Under a launcher, every process calls it."""
    return run_plan(distributed.current().first_on_local_main(lambda: plan_run(spec)), out_root)


def run_plan(plan: RunPlan, out_root: str | Path = "runs") -> RunSummary:
    """Run a planned (checked) run in `out_root/<run id>/`."""
    from evalkit.reports.run_report import render_run_report

    procs = distributed.current()
    store = RunStore(Path(out_root) / plan.run_id)
    summary = RunSummary(store.root, processes=procs.world_size, is_main=procs.is_main)
    # Main first: no process may write before a crash's temporaries are cleared.
    procs.run(lambda: prepare(store, plan, procs.world_size), here=procs.is_main)

    t = time.perf_counter()
    samples = _generate(procs, store, plan, summary)
    summary.seconds["generate"] = time.perf_counter() - t

    t = time.perf_counter()
    summary.results = _score(procs, store, plan, samples, summary)
    summary.seconds["score"] = time.perf_counter() - t

    t = time.perf_counter()
    procs.run(lambda: render_run_report(store.root), here=procs.is_main)  # also: all leave together
    summary.seconds["report"] = time.perf_counter() - t
    return summary


def _generate(procs, store: RunStore, plan: RunPlan, summary: RunSummary):
    jobs = plan.jobs
    summary.images_total = len(jobs)
    generator = plan.generator
    config = GenerationConfig(**plan.spec.generation.model_dump())
    summary.images_remade = procs.run(lambda: verify_images(store, jobs), here=procs.is_main, gather=True)[0]
    todo = procs.run(lambda: missing_batches(store, jobs, generator.batch_size), here=procs.is_main, gather=True)[0]
    made = procs.run(
        lambda: generate_missing(store, generator, jobs, config, procs.rank, procs.world_size, todo), gather=True
    )
    summary.images_made = sum(made)

    def write_samples():
        samples = build_samples(store, jobs, generator.fingerprint())
        write_parquet(store.root / "samples.parquet", samples)
        return samples

    return procs.run(write_samples, here=procs.is_main, gather=True)[0]


def _score(procs, store: RunStore, plan: RunPlan, samples, summary: RunSummary) -> RunResults:
    from evalkit.runner.scoring import ImageSet, ScoringContext, compute_metrics

    spec = plan.spec
    ctx = ScoringContext(ImageSet(store.root, samples, store.features_dir), spec.reference, procs)
    metrics = compute_metrics(ctx, spec.metrics)
    summary.features_extracted = ctx.features_extracted
    notes = ()
    truncated = getattr(plan.generator, "prompts_truncated", 0)
    if truncated:
        notes = (f"the generator truncated {truncated} prompt(s) to its text encoder's length",)
    results = RunResults(plan.run_id, len(samples), int(samples["prompt_id"].nunique()), metrics, notes)
    procs.run(lambda: write_metrics(store, results), here=procs.is_main)
    return results
