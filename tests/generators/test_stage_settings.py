"""Per-stage settings: defaults, overrides, templates and one-line errors with dotted paths."""

from __future__ import annotations

import pytest

from evalkit.errors import UserError
from evalkit.generators.cascade.imagen import ImagenStage
from evalkit.generators.cascade.skeleton import CascadeOptions
from evalkit.generators.cascade.stages import StageSettings, fill_stages, plan_stages, stage_text
from evalkit.options import validate
from evalkit.types import GenerationConfig

DEFAULTS = [ImagenStage(aug_level=0.0, thresholding="dynamic", percentile=0.995)] * 2


def stages(given: object) -> tuple:
    """`given` validated as a spec's `stages:` list, then filled with DEFAULTS."""
    class Two(CascadeOptions):
        stages: list[ImagenStage] = []

    return fill_stages(validate(Two, {"stages": given}, "generator").stages, DEFAULTS)


def test_missing_entries_and_keys_take_defaults():
    assert stages([{"guidance": 7.0}]) == (DEFAULTS[0].model_copy(update={"guidance": 7.0}), DEFAULTS[1])
    assert stages([]) == stages(None) == stages([None, None]) == tuple(DEFAULTS)
    assert stages([{}, {"aug_level": 0.3, "percentile": None}])[1].dump() == {
        "guidance": None, "steps": None, "prompt": None, "aug_level": 0.3, "thresholding": "dynamic", "percentile": 0.995}


def test_plans_resolve_steps_and_guidance_against_generation():
    config = GenerationConfig(num_inference_steps=9, guidance_scale=5.0)
    plans = plan_stages((StageSettings(), StageSettings(steps=2, guidance=0.0)), config)
    assert [(p.name, p.steps, p.guidance, p.is_last) for p in plans] == [("stage_1", 9, 5.0, False), ("stage_2", 2, 0.0, True)]


def test_prompt_template():
    assert stage_text("An oil painting of {prompt}", "a corgi") == "An oil painting of a corgi"
    assert stage_text(None, "a corgi") == "a corgi"
    assert stage_text("{prompt} {with braces}", "x") == "x {with braces}"


@pytest.mark.parametrize(
    "given, message",
    [
        ({"guidance": 1}, r"^generator\.stages: must be a list"),
        ([{}, {}, {}], r"^generator\.stages: has 3 entries but 2 stage\(s\) run; remove the extra ones$"),
        ([{"guidnce": 3}], r"^generator\.stages\.0\.guidnce: unknown option; did you mean 'guidance'\? \(options: guidance, steps, prompt, aug_level, thresholding, percentile\)$"),
        ([{"steps": 0}], r"^generator\.stages\.0\.steps: must be greater than or equal to 1 \(got 0\)$"),
        ([{}, {"aug_level": 1.0}], r"^generator\.stages\.1\.aug_level: must be less than 1 \(got 1\.0\)$"),
        ([{"prompt": "A photo of a dog"}], r"^generator\.stages\.0\.prompt: must be a text containing \{prompt\}, e\.g\. 'A photo of \{prompt\}' \(got 'A photo of a dog'\)$"),
        ([{"prompt": 3}], r"^generator\.stages\.0\.prompt: must be text \(got 3\)$"),
        (["fast"], r"^generator\.stages\.0: must be a mapping \(got 'fast'\)$"),
    ],
)
def test_errors(given, message):
    with pytest.raises(UserError, match=message):
        stages(given)


@pytest.mark.parametrize("spec", ["if-cascade", "if-cascade-tiny", "encoder-ablation", "encoder-ablation-tiny"])
def test_shipped_cascade_specs_validate(spec):
    """The benchmarks' generator blocks are valid typed options; the offline ones pass check() too."""
    from pathlib import Path

    import yaml

    from evalkit import registry

    path = Path(__file__).resolve().parents[2] / "benchmarks" / f"{spec}.yaml"
    block = dict(yaml.safe_load(path.read_text(encoding="utf-8"))["generator"])
    cls = registry.GENERATORS.load(block.pop("name"))
    options = validate(cls.Options, block, "generator")
    assert len(options.stages) == 3
    if spec.endswith("-tiny"):
        cls(options).check()
