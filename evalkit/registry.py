"""Name -> "module:attr" tables, resolved lazily so listing them imports nothing heavy."""

from __future__ import annotations

import difflib
import importlib
from typing import Any

from evalkit.errors import UserError

SUITES: dict[str, str] = {
    "drawbench": "evalkit.suites.drawbench:load",
    "parti": "evalkit.suites.parti:load",
    "coco30k": "evalkit.suites.coco:load",
    "file": "evalkit.suites.files:load",
    "smoke": "evalkit.suites.smoke:load",
}

GENERATORS: dict[str, str] = {
    "diffusers_pipeline": "evalkit.generators.diffusers_pipeline:DiffusersPipelineGenerator",
    "image_folder": "evalkit.generators.image_folder:ImageFolderGenerator",
    "imagen_cascade": "evalkit.generators.imagen_cascade:ImagenCascadeGenerator",
    "deepfloyd_if": "evalkit.generators.deepfloyd_if:DeepFloydIFGenerator",
}

METRICS: dict[str, str] = {
    "fid": "evalkit.metrics.fid:FID",
    "kid": "evalkit.metrics.kid:KID",
    "clip_score": "evalkit.metrics.clip_score:CLIPScore",
    "cmmd": "evalkit.metrics.cmmd:CMMD",
}

DESCRIPTIONS: dict[str, str] = {
    "drawbench": "Imagen's DrawBench: 200 prompts, 11 categories",
    "parti": "PartiPrompts (P2): 1632 prompts, 12 categories, 11 challenges",
    "coco30k": "COCO val2014 30K captions for zero-shot FID-30K (limit/seed subsampling)",
    "file": "any CSV/TSV/JSONL/TXT file of prompts",
    "smoke": "22 self-written prompts, 2 per DrawBench category (offline)",
    "diffusers_pipeline": "any diffusers text-to-image pipeline, by hub id or local directory",
    "image_folder": "images made elsewhere: a folder laid out as <prompt-id>/<index>.png",
    "imagen_cascade": "Imagen-style cascade (BERT/T5/CLIP encoder, 64px base + super-resolution UNets), local folder",
    "deepfloyd_if": "DeepFloyd IF stage I -> II -> optional SD x4 upscaler, by hub id or local folders",
    "fid": "Frechet Inception Distance (Inception-v3 TF-2015 pool3, 2048-d)",
    "kid": "Kernel Inception Distance (unbiased polynomial MMD over subsets)",
    "clip_score": "CLIP score: 100 * max(cos(image, text), 0), mean with bootstrap CI",
    "cmmd": "CMMD: RBF-kernel MMD (sigma 10, x1000) on CLIP image embeddings",
}


def _check(kind: str, table: dict[str, str], name: str) -> str:
    if name in table:
        return table[name]
    close = difflib.get_close_matches(name, table, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"choose one of: {', '.join(sorted(table))}"
    raise UserError(f"unknown {kind} '{name}': {hint}")


def resolve(kind: str, name: str) -> Any:
    """Import and return the object registered as `name` in the `kind` table."""
    table = {"suite": SUITES, "generator": GENERATORS, "metric": METRICS}[kind]
    module, attr = _check(kind, table, name).split(":")
    return getattr(importlib.import_module(module), attr)


def check_name(kind: str, name: str) -> None:
    """Raise a UserError (with a did-you-mean) if `name` is not registered; imports nothing."""
    table = {"suite": SUITES, "generator": GENERATORS, "metric": METRICS}[kind]
    _check(kind, table, name)
