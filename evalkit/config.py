"""Benchmark spec: YAML -> a frozen, fully validated BenchmarkSpec, or one-line errors.

    name: smoke
    seed: 0
    images_per_prompt: 2
    suite: {name: smoke}
    generator: {name: diffusers_pipeline, model: builtin:tiny-sd}
    generation: {num_inference_steps: 8, guidance_scale: 5.0}
    reference: {images: builtin:procedural, resize: clean}
    metrics: {fid: {}, kid: {subset_size: 16}, clip_score: {model: builtin:tiny-clip}}

Suite, generator and metric options beyond `name` are validated against the component's
own typed Options (evalkit.options) when the spec is loaded — before any image is made.
A metric's key is the name of its result; `metric:` picks another implementation, so one
spec can hold two of a kind (`fd_dinov2: {metric: fd, ...}`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from evalkit import registry
from evalkit.errors import UserError
from evalkit.options import Options, describe_error, finite, validate
from evalkit.suites.hf_dataset import DatasetImages, check_local
from evalkit.yaml_io import read_yaml

RESIZE_MODES = ("clean", "legacy-tf")
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class GenerationSpec(_Strict):
    num_inference_steps: int = Field(25, ge=1)
    guidance_scale: Annotated[float, AfterValidator(finite)] = 7.5
    height: int | None = Field(None, ge=8, multiple_of=8)  # VAEs and UNets need multiples of 8
    width: int | None = Field(None, ge=8, multiple_of=8)
    negative_prompt: str | None = None


class ReferenceSpec(_Strict):
    images: str | None = None  # folder of real images, or builtin:procedural
    dataset: DatasetImages | None = None  # or an image column of a Hugging Face dataset split
    stats: str | None = None  # .npz of mu/sigma (FID only)
    resize: Literal["clean", "legacy-tf"] = "clean"

    @property
    def has_images(self) -> bool:
        return bool(self.images) or self.dataset is not None


class ReportSpec(_Strict):
    images_per_category: int = Field(4, ge=0)


class _RawSpec(_Strict):
    name: str = Field(pattern=NAME_PATTERN, max_length=80)  # a folder name: kept short for every filesystem
    seed: int = Field(0, ge=0, lt=2**31)
    images_per_prompt: int = Field(1, ge=1, le=10_000)
    suite: str | dict[str, Any]
    generator: str | dict[str, Any]
    generation: GenerationSpec = GenerationSpec()
    reference: ReferenceSpec | None = None
    metrics: dict[str, dict[str, Any] | None] = {}
    report: ReportSpec = ReportSpec()


@dataclass(frozen=True)
class ComponentSpec:
    """A registered component (its kind and registry name) with validated options."""

    kind: str
    name: str
    options: Options

    @property
    def cls(self) -> type:
        return registry.REGISTRIES[self.kind].load(self.name)

    def build(self):
        return self.cls(self.options)

    def dump(self) -> dict[str, Any]:
        return {"name": self.name, **self.options.dump()}


MetricSpec = ComponentSpec


def component(kind: str, raw: Any, where: str) -> ComponentSpec:
    """`{name: X, **options}` (or just `X`) -> a ComponentSpec with typed options."""
    data = {"name": raw} if isinstance(raw, str) else dict(raw)
    name = data.pop("name", None)
    if not isinstance(name, str) or not name:
        raise UserError(f"{where}.name: required: the {kind} to use (see `evalkit ls`)")
    reg = registry.REGISTRIES[kind]
    reg.check_name(name)
    return ComponentSpec(kind, name, validate(reg.load(name).Options, data, where))


def metric(key: str, raw: dict[str, Any] | None) -> ComponentSpec:
    data = dict(raw or {})
    name = data.pop("metric", key)
    return component("metric", {"name": name, **data}, f"metrics.{key}")


@dataclass(frozen=True)
class BenchmarkSpec:
    name: str
    seed: int
    images_per_prompt: int
    suite: ComponentSpec
    generator: ComponentSpec
    generation: GenerationSpec
    reference: ReferenceSpec | None
    metrics: dict[str, ComponentSpec]
    report: ReportSpec

    def dump(self) -> dict[str, Any]:
        """The resolved spec (every option, defaults included), JSON-ready: what spec.yaml records."""
        return {
            "name": self.name, "seed": self.seed, "images_per_prompt": self.images_per_prompt,
            "suite": self.suite.dump(), "generator": self.generator.dump(),
            "generation": self.generation.model_dump(mode="json"),
            "reference": None if self.reference is None else self.reference.model_dump(mode="json"),
            "metrics": {k: _metric_dump(k, m) for k, m in self.metrics.items()},
            "report": self.report.model_dump(mode="json"),
        }

    def generation_key(self) -> str:
        """Hash of the spec's part that decides the images (not the metrics)."""
        part = {k: v for k, v in self.dump().items() if k in ("seed", "images_per_prompt", "suite", "generator", "generation")}
        return hashlib.sha256(json.dumps(part, sort_keys=True).encode()).hexdigest()


def _metric_dump(key: str, spec: ComponentSpec) -> dict[str, Any]:
    out = spec.options.dump()
    return out if spec.name == key else {"metric": spec.name, **out}


def _check_needs(spec: BenchmarkSpec) -> None:
    """Every metric gets the kind of reference it needs."""
    needs = {key: m.cls.needs_reference for key, m in spec.metrics.items()}
    wanting = [k for k, n in needs.items() if n != "nothing"]
    ref = spec.reference
    if wanting and (ref is None or not (ref.has_images or ref.stats)):
        raise UserError(f"metrics {', '.join(wanting)} need a reference: add `reference: {{images: DIR}}`")
    for key in (k for k, n in needs.items() if n == "features"):
        if not ref.has_images:
            raise UserError(f"metrics.{key}: needs reference images (features), not only stats: set reference.images")
    if ref is not None and ref.images and ref.dataset is not None:
        raise UserError("reference: give images (a folder) or dataset, not both")


def check_reference_files(ref: ReferenceSpec | None) -> None:
    """The reference's folder or file exists: checked before the first image, not after the last."""
    if ref is None:
        return
    from evalkit import builtin

    if ref.images and not builtin.is_builtin(ref.images) and not Path(ref.images).expanduser().is_dir():
        raise UserError(f"reference.images: folder not found: {ref.images} (a folder of real images)")
    if ref.images and builtin.is_builtin(ref.images):
        builtin.check(ref.images)
    if ref.dataset is not None:
        check_local(ref.dataset, "reference.dataset")
    if ref.stats and not Path(ref.stats).expanduser().is_file():
        raise UserError(f"reference.stats: file not found: {ref.stats} (build one with `evalkit fid-stats DIR -o FILE.npz`)")


def parse_spec(data: Any, source: str = "spec") -> BenchmarkSpec:
    """Validate a spec mapping, every component's options included; problems are one-line UserErrors."""
    try:
        if not isinstance(data, dict):
            raise UserError(f"a benchmark spec must be a YAML mapping, got {type(data).__name__}")
        try:
            raw = _RawSpec.model_validate(data)
        except ValidationError as err:
            raise UserError(describe_error(err, _RawSpec)) from None
        spec = BenchmarkSpec(
            raw.name, raw.seed, raw.images_per_prompt, component("suite", raw.suite, "suite"),
            component("generator", raw.generator, "generator"), raw.generation, raw.reference,
            {key: metric(key, opts) for key, opts in raw.metrics.items()}, raw.report,
        )
        _check_needs(spec)
        return spec
    except UserError as err:
        raise UserError(f"{source}: {err}") from None


def load_spec(path: str | Path) -> BenchmarkSpec:
    path = Path(path)
    return parse_spec(read_yaml(path, "benchmark spec", "e.g. benchmarks/smoke.yaml"), source=str(path))
