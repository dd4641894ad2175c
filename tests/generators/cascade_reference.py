"""Reference images of the two cascades, to prove a refactoring changes no pixel.

Each case is a generator (its options), a sampler config and one or more batches of
prompts run through one instance. `python tests/generators/cascade_reference.py` writes
the SHA-256 of every image's raw pixels (and the truncation count and fingerprint) to
data/cascade_reference.json; test_cascade_reference.py regenerates them and compares.
The stored digests were made by the pre-typed-options code (commit 96daeef) on CPU with
the torch/diffusers/transformers versions pinned in constraints.txt (recorded in the file).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

DATA = Path(__file__).with_name("data") / "cascade_reference.json"
T5_ENCODER = "@builtin:tiny-imagen-t5/text_encoder"  # a folder inside a built-in, resolved at run time
IF = {"stage_1": "builtin:tiny-if-1", "stage_2": "builtin:tiny-if-2", "stage_3": "builtin:tiny-sd-x4-upscaler"}
LONG = "a very long prompt " * 8

# name -> (generator, options, generation config, batches of prompt texts, first seed)
CASES: dict[str, tuple[str, dict, dict, list[list[str]], int]] = {
    "imagen-bert-3-stages-aug": (
        "imagen_cascade", {"model": "builtin:tiny-imagen-bert", "stages": [{}, {"aug_level": 0.2}, {"aug_level": 0.1}]},
        {"num_inference_steps": 2, "guidance_scale": 3.0}, [["a red cube", "two dogs on a sofa"], ["a blue sphere"]], 7),
    "imagen-t5-templates-resident-micro1": (
        "imagen_cascade", {"model": "builtin:tiny-imagen-t5", "run_stages": 2, "loading": "resident", "micro_batch_size": 1,
                           "stages": [{"prompt": "A photo of {prompt}", "guidance": 5.0, "percentile": 0.9},
                                      {"prompt": "An oil painting of {prompt}", "steps": 1, "thresholding": "static",
                                       "aug_level": 0.25}]},
        {"num_inference_steps": 2, "guidance_scale": 3.0, "negative_prompt": "blurry"},
        [["a corgi", "a red cube", "a green bird"], ["a corgi", "a boat"]], 21),
    "imagen-clip-ddim-no-threshold-micro2": (
        "imagen_cascade", {"model": "builtin:tiny-imagen-clip", "scheduler": "DDIMScheduler", "thresholding": "none",
                           "aug_level": 0.3, "max_length": 16, "micro_batch_size": 2},
        {"num_inference_steps": 2, "guidance_scale": 4.0}, [["a red cube", LONG, "a city at night"]], 3),
    "imagen-bert-dpm-unguided": (
        "imagen_cascade", {"model": "builtin:tiny-imagen-bert", "run_stages": 1, "scheduler": "DPMSolverMultistepScheduler",
                           "thresholding": "static"},
        {"num_inference_steps": 3, "guidance_scale": 1.0}, [["a red cube", "a bowl of fruit"]], 11),
    "imagen-minilm-euler": (
        "imagen_cascade", {"model": "builtin:tiny-imagen-minilm", "run_stages": 2, "scheduler": "EulerDiscreteScheduler",
                           "thresholding": "none", "stages": [{}, {"guidance": 0.0}]},
        {"num_inference_steps": 2, "guidance_scale": 2.0}, [["a photo of a dog", "quarterly tax report"]], 5),
    "imagen-bert-bfloat16": (
        "imagen_cascade", {"model": "builtin:tiny-imagen-bert", "run_stages": 2, "dtype": "bfloat16", "percentile": 0.95},
        {"num_inference_steps": 2, "guidance_scale": 3.0}, [["a red cube", "a small boat"]], 1),
    "imagen-t5-own-encoder-folder": (
        "imagen_cascade", {"model": "builtin:tiny-imagen-t5", "run_stages": 2, "text_encoder": T5_ENCODER, "max_length": 32},
        {"num_inference_steps": 2, "guidance_scale": 3.0}, [["a red cube", "two dogs on a sofa"]], 13),
    "if-3-stages-overrides": (
        "deepfloyd_if", {**IF, "stages": [{"prompt": "A photo of {prompt}"},
                                          {"prompt": "An oil painting of {prompt}", "guidance": 2.0, "noise_level": 100},
                                          {"steps": 1, "noise_level": 20}]},
        {"num_inference_steps": 2, "guidance_scale": 4.0}, [["a corgi", "a red cube"]], 100),
    "if-2-stages-resident-micro1": (
        "deepfloyd_if", {**IF, "stage_3": None, "loading": "resident", "micro_batch_size": 1,
                         "stages": [{"guidance": 6.0, "steps": 3}, {"noise_level": 0}]},
        {"num_inference_steps": 2, "guidance_scale": 4.0, "negative_prompt": "low quality"},
        [["a corgi", "a red cube", "a green bird"], ["a boat"]], 3),
    "if-3-stages-micro2-unguided": (
        "deepfloyd_if", {**IF, "micro_batch_size": 2},
        {"num_inference_steps": 1, "guidance_scale": 1.0}, [["a corgi", "word " * 40, "a red cube"]], 40),
}


def _resolve(options: dict) -> dict:
    from evalkit import builtin

    out = dict(options)
    for key, value in options.items():
        if isinstance(value, str) and value.startswith("@"):
            ref, _, sub = value[1:].partition("/")
            out[key] = str(builtin.resolve(ref) / sub)
    return out


def make_generator(name: str, options: dict):
    import importlib

    from evalkit import registry

    module, _, attr = registry.GENERATORS.entries()[name].target.partition(":")
    cls = getattr(importlib.import_module(module), attr)
    options = _resolve(options)
    if hasattr(cls, "create"):
        return cls.create(**options)
    return cls(**options)  # the pre-typed-options constructors took keyword options


def image_digest(image) -> str:
    h = hashlib.sha256(f"{image.mode} {image.size}\n".encode())
    h.update(image.tobytes())
    return h.hexdigest()


def run_case(name: str) -> dict:
    from evalkit.types import GenerationConfig, ImageJob, Prompt

    generator_name, options, config, batches, seed0 = CASES[name]
    gen = make_generator(generator_name, options)
    digests, seed = [], seed0
    for texts in batches:
        jobs = [ImageJob(Prompt(f"p{seed + i}", t), 0, seed + i) for i, t in enumerate(texts)]
        seed += len(texts)
        digests.append([image_digest(im) for im in gen.generate(jobs, GenerationConfig(**config))])
    return {"images": digests, "prompts_truncated": gen.prompts_truncated, "loads": gen.loader.loads,
            "fingerprint": json.loads(json.dumps(gen.fingerprint(), sort_keys=True))}


def versions() -> dict:
    import diffusers
    import torch
    import transformers

    return {"torch": torch.__version__, "diffusers": diffusers.__version__, "transformers": transformers.__version__}


def main() -> int:
    import warnings

    import torch

    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    results = {name: run_case(name) for name in CASES}
    DATA.write_text(json.dumps({"made_by": sys.argv[1] if len(sys.argv) > 1 else "?", "versions": versions(),
                                "cases": results}, indent=1, sort_keys=True) + "\n")
    print(DATA)
    return 0


if __name__ == "__main__":
    sys.exit(main())
