"""The cascade / SD benchmark specs parse (every option known to the generator's typed
Options), the online ones name hub ids, and the offline ones generate."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.config import load_spec
from evalkit.errors import UserError
from evalkit.runner.run import plan_run
from evalkit.types import GenerationConfig

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
ONLINE = ["encoder-ablation", "if-cascade", "drawbench-sd15", "coco-fid30k-sd15"]


@pytest.mark.parametrize("name", ONLINE + [f"{n}-tiny" for n in ONLINE] + ["smoke"])
def test_spec_parses_with_known_options(name):
    spec = load_spec(BENCHMARKS / f"{name}.yaml")  # unknown or mistyped options would raise here
    assert set(spec.dump()["generator"]) == {"name"} | set(spec.generator.cls.Options.model_fields)


def test_online_specs_use_hub_ids():
    sd = load_spec(BENCHMARKS / "drawbench-sd15.yaml").generator.options
    assert sd.model == "runwayml/stable-diffusion-v1-5"
    gen = load_spec(BENCHMARKS / "if-cascade.yaml").generator.build()  # hub ids: nothing loads or downloads
    assert [s["ref"] for s in gen.fingerprint()["stages"]] == [
        "DeepFloyd/IF-I-XL-v1.0", "DeepFloyd/IF-II-L-v1.0", "stabilityai/stable-diffusion-x4-upscaler"]
    ablation = load_spec(BENCHMARKS / "encoder-ablation.yaml")
    assert ablation.generator.options.text_encoder == "google/t5-v1_1-xxl"
    with pytest.raises(UserError, match="reference.images: folder not found: /data/coco/val2014"):
        plan_run(ablation)  # checked before any model is touched
    with pytest.raises(UserError, match="checkpoint folder checkpoints/imagen-t5 does not exist"):
        ablation.generator.build()  # a user's own cascade folder


@pytest.mark.parametrize("name", ["encoder-ablation-tiny", "if-cascade-tiny"])
def test_offline_cascade_specs_generate(name):
    plan = plan_run(load_spec(BENCHMARKS / f"{name}.yaml"))
    images = plan.generator.generate(plan.jobs[:2], GenerationConfig(**plan.spec.generation.model_dump()))
    assert len(images) == 2 and images[0].size == {"encoder": (64, 64), "if-casc": (128, 128)}[name[:7]]
