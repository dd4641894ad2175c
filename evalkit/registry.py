"""Plugin registries: one per kind of component (suite, generator, metric, extractor).

Each is filled from three places, in this order of precedence:
  1. evalkit's own lazy table (name -> "module:attr"), so listing imports nothing heavy;
  2. the `@REGISTRY.register("name")` decorator, for code the user imports themselves;
  3. Python entry points in the groups `evalkit.suites`, `evalkit.generators`,
     `evalkit.metrics` and `evalkit.extractors`, so an installed distribution plugs in
     without any change to evalkit (docs/plugins.md).
A spec may also name `package.module:Class` directly. Whatever it comes from, an object is
checked when it is loaded: a concrete subclass of the kind's base class whose `Options`
is a pydantic model, or a one-line error that says what is wrong.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import inspect
from dataclasses import dataclass
from typing import Any, Callable

from evalkit.errors import UserError

OWN_PACKAGE = "evalkit"


@dataclass(frozen=True)
class Entry:
    name: str
    target: str  # "module:attr"
    package: str  # the distribution that provides it
    description: str = ""


def _import(target: str, what: str) -> Any:
    module, _, attr = target.partition(":")
    if not module or not attr:
        raise UserError(f"{what}: '{target}' is not of the form package.module:Name")
    try:
        return getattr(importlib.import_module(module), attr)
    except ImportError as err:
        raise UserError(f"{what}: cannot import {module} ({err}); is the package that provides it installed?") from None
    except AttributeError:
        raise UserError(f"{what}: module {module} has no attribute '{attr}'") from None


def _distribution(module: str) -> str:
    top = module.split(".")[0]
    names = importlib.metadata.packages_distributions().get(top, [])
    return names[0] if names else top


class Registry:
    """Named components of one kind, resolved lazily and checked against `base` on load."""

    def __init__(self, kind: str, group: str, base: str, builtins: dict[str, tuple[str, str]]):
        self.kind, self.group, self._base = kind, group, base
        self._entries = {name: Entry(name, target, OWN_PACKAGE, doc) for name, (target, doc) in builtins.items()}
        self._registered: dict[str, tuple[Entry, Any]] = {}
        self._loaded: dict[str, Any] = {}

    # --- filling ----------------------------------------------------------------------------
    def register(self, name: str, description: str = "") -> Callable[[Any], Any]:
        """Class decorator: `@GENERATORS.register("my_model")`."""
        def decorate(obj: Any) -> Any:
            target = f"{obj.__module__}:{obj.__qualname__}"
            doc = description or (inspect.getdoc(obj) or "").split("\n")[0]
            self._registered[name] = (Entry(name, target, _distribution(obj.__module__), doc), obj)
            self._loaded.pop(name, None)
            return obj
        return decorate

    def _plugins(self) -> dict[str, Entry]:
        found = {}
        for ep in importlib.metadata.entry_points(group=self.group):
            package = ep.dist.name if ep.dist is not None else "?"
            found.setdefault(ep.name, Entry(ep.name, ep.value, package, f"plugin from {package}"))
        return found

    def entries(self) -> dict[str, Entry]:
        """Every known name: evalkit's own first, then registered ones, then entry points."""
        out = dict(self._plugins())
        out.update({name: entry for name, (entry, _) in self._registered.items()})
        out.update(self._entries)
        return out

    # --- lookup -------------------------------------------------------------------------------
    def check_name(self, name: str) -> None:
        """Raise a UserError with a did-you-mean if `name` is unknown; imports nothing."""
        if ":" in name:
            return
        names = self.entries()
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"choose one of: {', '.join(sorted(names))}"
            raise UserError(f"unknown {self.kind} '{name}': {hint}")

    def load(self, name: str) -> Any:
        """The component class registered as `name` (or named `module:Class`), checked."""
        if name not in self._loaded:
            self.check_name(name)
            what = f"{self.kind} '{name}'"
            entry = self.entries().get(name)
            registered = self._registered.get(name, (None, None))
            obj = registered[1] if entry is not None and entry is registered[0] else _import(entry.target if entry else name, what)
            self._loaded[name] = self._check(obj, what)
        return self._loaded[name]

    def _check(self, obj: Any, what: str) -> Any:
        from pydantic import BaseModel

        base = _import(self._base, "evalkit")
        if not (inspect.isclass(obj) and issubclass(obj, base)):
            raise UserError(f"{what} is {obj!r}, not a subclass of {base.__module__}.{base.__name__}; "
                            f"see docs/plugins.md for the {self.kind} interface")
        options = getattr(obj, "Options", None)
        if not (inspect.isclass(options) and issubclass(options, BaseModel)):
            raise UserError(f"{what}: {obj.__name__}.Options must be a pydantic model (subclass evalkit.options.Options)")
        if inspect.isabstract(obj):
            missing = ", ".join(sorted(obj.__abstractmethods__))
            raise UserError(f"{what}: {obj.__name__} does not implement {missing} of the {self.kind} interface")
        problem = obj.interface_problem()
        if problem:
            raise UserError(f"{what}: {obj.__name__} {problem}")
        return obj


# evalkit's own components: kind -> name -> ("module:attr", description)
OWN: dict[str, dict[str, tuple[str, str]]] = {
    "suite": {
        "drawbench": ("evalkit.suites.drawbench:DrawBench", "Imagen's DrawBench: 200 prompts, 11 categories"),
        "parti": ("evalkit.suites.parti:PartiPrompts", "PartiPrompts (P2): 1632 prompts, 12 categories, 11 challenges"),
        "coco30k": ("evalkit.suites.coco:Coco30k", "COCO val2014 30K captions for zero-shot FID-30K (limit/seed subsampling)"),
        "file": ("evalkit.suites.files:PromptFile", "any CSV/TSV/JSONL/TXT file of prompts"),
        "smoke": ("evalkit.suites.smoke:Smoke", "22 self-written prompts, 2 per DrawBench category (offline)"),
        "hf_dataset": ("evalkit.suites.hf_dataset:HFDataset",
                       "a Hugging Face datasets split (hub id or local parquet/csv/json), columns mapped, rows checked"),
    },
    "generator": {
        "diffusers_pipeline": ("evalkit.generators.diffusers_pipeline:DiffusersPipelineGenerator",
                               "any diffusers text-to-image pipeline, by hub id or local directory"),
        "image_folder": ("evalkit.generators.image_folder:ImageFolderGenerator",
                         "images made elsewhere: a folder laid out as <prompt-id>/<index>.png"),
        "imagen_cascade": ("evalkit.generators.cascade.imagen:ImagenCascadeGenerator",
                           "Imagen-style cascade (BERT/T5/CLIP encoder, 64px base + super-resolution UNets), local folder"),
        "deepfloyd_if": ("evalkit.generators.cascade.deepfloyd_if:DeepFloydIFGenerator",
                         "DeepFloyd IF stage I -> II -> optional SD x4 upscaler, by hub id or local folders"),
        "imagen_pytorch": ("evalkit.generators.imagen_pytorch:ImagenPytorchGenerator",
                           "lucidrains' imagen-pytorch: ImagenTrainer checkpoint or Imagen config + weights (extra imagen-pytorch)"),
    },
    "metric": {
        "fid": ("evalkit.metrics.fid:FID", "Frechet Inception Distance (Inception-v3 TF-2015 pool3, 2048-d)"),
        "kid": ("evalkit.metrics.kid:KID", "Kernel Inception Distance (unbiased polynomial MMD over subsets)"),
        "clip_score": ("evalkit.metrics.clip_score:CLIPScore", "CLIP score: 100 * max(cos(image, text), 0), mean with bootstrap CI"),
        "cmmd": ("evalkit.metrics.cmmd:CMMD", "CMMD: RBF-kernel MMD (sigma 10, x1000) on CLIP image embeddings"),
        "fd": ("evalkit.metrics.fd:FD", "Frechet distance on any extractor's features (default dinov2: FD-DINOv2)"),
        "clip_fid": ("evalkit.metrics.fd:CLIPFID", "CLIP-FID (clean-fid clip_vit_b_32): FD of raw CLIP ViT-B/32 embeddings"),
        "precision_recall": ("evalkit.metrics.manifold:PrecisionRecall",
                             "improved precision/recall (k=3, torch-fidelity prc) on any extractor (default dinov2)"),
        "density_coverage": ("evalkit.metrics.manifold:DensityCoverage",
                             "density/coverage (k=5, prdc) on any extractor (default dinov2)"),
        "pickscore": ("evalkit.metrics.preference:PickScore", "PickScore_v1: exp(logit_scale) * cos(image, prompt), per image"),
        "hpsv2": ("evalkit.metrics.preference:HPSv2", "HPS v2.1: 100 * cos(image, prompt) with open_clip ViT-H-14, per image"),
        "vqascore": ("evalkit.metrics.vqascore:VQAScore",
                     "VQAScore: P(Yes | image, 'Does this figure show \"{prompt}\"?') from an image-text-to-text model"),
    },
    "extractor": {
        "inception": ("evalkit.metrics.extractors.inception:InceptionExtractor", "Inception-v3 pool3 (TF-2015 FID weights), 2048-d"),
        "clip": ("evalkit.metrics.extractors.clip:ClipExtractor", "CLIP image embeddings (open_clip or transformers), L2-normalised"),
        "dinov2": ("evalkit.metrics.extractors.dinov2:Dinov2Extractor",
                   "DINOv2 CLS features (transformers Dinov2Model; dgm-eval preprocessing), FD-DINOv2"),
    },
}
# kind -> (entry-point group, base class)
KINDS = {
    "suite": ("evalkit.suites", "evalkit.suites.base:Suite"),
    "generator": ("evalkit.generators", "evalkit.generators.base:Generator"),
    "metric": ("evalkit.metrics", "evalkit.metrics.base:Metric"),
    "extractor": ("evalkit.extractors", "evalkit.metrics.extractors.base:FeatureExtractor"),
}
REGISTRIES = {kind: Registry(kind, group, base, OWN[kind]) for kind, (group, base) in KINDS.items()}
SUITES, GENERATORS, METRICS, EXTRACTORS = (REGISTRIES[k] for k in KINDS)
