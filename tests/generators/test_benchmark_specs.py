"""The cascade / SD benchmark specs parse, name only real options, and the offline ones generate."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from evalkit import registry
from evalkit.config import load_spec
from evalkit.errors import UserError
from evalkit.runner.run import load_prompts, make_generator, make_jobs
from evalkit.types import GenerationConfig

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
ONLINE = ["encoder-ablation", "if-cascade", "drawbench-sd15", "coco-fid30k-sd15"]


@pytest.mark.parametrize("name", ONLINE + [f"{n}-tiny" for n in ONLINE])
def test_spec_parses_with_known_options(name):
    spec = load_spec(BENCHMARKS / f"{name}.yaml")
    cls = registry.resolve("generator", spec.generator.name)
    params = inspect.signature(cls).parameters
    assert set(spec.generator.options) <= set(params), set(spec.generator.options) - set(params)


def test_online_specs_use_hub_ids():
    sd = load_spec(BENCHMARKS / "drawbench-sd15.yaml").generator.options
    assert sd["model"] == "runwayml/stable-diffusion-v1-5"
    if_spec = load_spec(BENCHMARKS / "if-cascade.yaml")
    gen = make_generator(if_spec)  # hub ids: constructing loads and downloads nothing
    assert [s["ref"] for s in gen.fingerprint()["stages"]] == [
        "DeepFloyd/IF-I-XL-v1.0", "DeepFloyd/IF-II-L-v1.0", "stabilityai/stable-diffusion-x4-upscaler"]
    ablation = load_spec(BENCHMARKS / "encoder-ablation.yaml")
    assert ablation.generator.options["text_encoder"] == "google/t5-v1_1-xxl"
    with pytest.raises(UserError, match="checkpoint folder checkpoints/imagen-t5 does not exist"):
        make_generator(ablation)  # a user's own cascade folder


@pytest.mark.parametrize("name", ["encoder-ablation-tiny", "if-cascade-tiny"])
def test_offline_cascade_specs_generate(name):
    spec = load_spec(BENCHMARKS / f"{name}.yaml")
    jobs = make_jobs(spec, load_prompts(spec))[:2]
    images = make_generator(spec).generate(jobs, GenerationConfig(**spec.generation.model_dump()))
    assert len(images) == 2 and images[0].size == {"encoder": (64, 64), "if-casc": (128, 128)}[name[:7]]
