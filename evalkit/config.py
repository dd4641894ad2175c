"""Benchmark spec: YAML -> validated pydantic models, with one-line errors.

A spec names a suite, a generator, sampler settings, a reference set and metrics:

    name: smoke
    seed: 0
    images_per_prompt: 2
    suite: {name: smoke}
    generator: {name: diffusers_pipeline, model: builtin:tiny-sd}
    generation: {num_inference_steps: 8, guidance_scale: 5.0}
    reference: {images: builtin:procedural, resize: clean}
    metrics: {fid: {}, kid: {subset_size: 16}, clip_score: {model: ...}}

Suite, generator and metric options beyond `name` are passed to their constructors
and checked against their signatures (see evalkit.options).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evalkit import registry
from evalkit.errors import UserError

RESIZE_MODES = ("clean", "legacy-tf")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Named(BaseModel):
    """A `name` plus free options, checked later against the named object's signature."""

    model_config = ConfigDict(extra="allow", frozen=True)
    name: str

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class SuiteSpec(_Named):
    pass


class GeneratorSpec(_Named):
    pass


class GenerationSpec(_Strict):
    num_inference_steps: int = Field(25, ge=1)
    guidance_scale: float = 7.5
    height: int | None = Field(None, ge=8)
    width: int | None = Field(None, ge=8)
    negative_prompt: str | None = None


class ReferenceSpec(_Strict):
    images: str | None = None  # folder of real images, or builtin:procedural
    stats: str | None = None  # .npz of mu/sigma (FID only)
    resize: Literal["clean", "legacy-tf"] = "clean"


class ReportSpec(_Strict):
    images_per_category: int = Field(4, ge=0)


class BenchmarkSpec(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    seed: int = 0
    images_per_prompt: int = Field(1, ge=1)
    suite: SuiteSpec
    generator: GeneratorSpec
    generation: GenerationSpec = GenerationSpec()
    reference: ReferenceSpec | None = None
    metrics: dict[str, dict[str, Any]] = {}
    report: ReportSpec = ReportSpec()

    def generation_key(self) -> str:
        """Hash of everything that decides the images (not metrics), for the run id."""
        part = self.model_dump(include={"seed", "images_per_prompt", "suite", "generator", "generation"})
        blob = json.dumps(part, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:8]

    @property
    def run_id(self) -> str:
        return f"{self.name}-{self.generation_key()}"


def _format_validation_error(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown field; remove it or check its spelling"
    elif first["type"] == "missing":
        msg = "required field is missing"
    got = first.get("input")
    shown = "" if first["type"] in ("missing", "extra_forbidden") else f" (got {got!r})"
    more = f" (+{len(err.errors()) - 1} more)" if len(err.errors()) > 1 else ""
    return f"{where}: {msg}{shown}{more}"


def parse_spec(data: Any, source: str = "spec") -> BenchmarkSpec:
    """Validate a spec mapping; every problem becomes a one-line UserError."""
    if not isinstance(data, dict):
        raise UserError(f"{source}: a benchmark spec must be a YAML mapping, got {type(data).__name__}")
    try:
        spec = BenchmarkSpec.model_validate(data)
    except ValidationError as err:
        raise UserError(f"{source}: {_format_validation_error(err)}") from None
    try:
        registry.check_name("suite", spec.suite.name)
        registry.check_name("generator", spec.generator.name)
        for metric in spec.metrics:
            registry.check_name("metric", metric)
    except UserError as err:
        raise UserError(f"{source}: {err}") from None
    needs_reference = [m for m in spec.metrics if m in ("fid", "kid", "cmmd")]
    if needs_reference and (spec.reference is None or not (spec.reference.images or spec.reference.stats)):
        raise UserError(f"{source}: metrics {', '.join(needs_reference)} need a reference: add `reference: {{images: DIR}}`")
    for metric in ("kid", "cmmd"):
        if metric in spec.metrics and spec.reference and not spec.reference.images:
            raise UserError(f"{source}: {metric} needs reference images (features), not only stats: set reference.images")
    return spec


def load_spec(path: str | Path) -> BenchmarkSpec:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"spec file not found: {path} (give the path to a benchmark YAML, e.g. benchmarks/smoke.yaml)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or "invalid YAML"
        raise UserError(f"{path}: malformed YAML{where}: {problem}") from None
    return parse_spec(data, source=str(path))
