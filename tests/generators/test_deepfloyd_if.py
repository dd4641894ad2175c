"""deepfloyd_if on tiny random-weight IF stages I/II and SD x4 upscaler, offline."""

from __future__ import annotations

import io
import json
import shutil

import diffusers
import pytest
import torch

from evalkit import builtin
from evalkit.errors import UserError
from evalkit.generators.cascade.deepfloyd_if import DeepFloydIFGenerator
from evalkit.generators.text_encoders import PromptTruncationWarning
from evalkit.options import validate
from evalkit.types import GenerationConfig

TINY = {"stage_1": "builtin:tiny-if-1", "stage_2": "builtin:tiny-if-2", "stage_3": "builtin:tiny-sd-x4-upscaler"}
FAST = GenerationConfig(num_inference_steps=2, guidance_scale=4.0)


def deepfloyd(**options) -> DeepFloydIFGenerator:
    return DeepFloydIFGenerator.create(**options)


def from_spec(**options) -> DeepFloydIFGenerator:
    """As the CLI builds it from a spec's `generator:` mapping (errors prefixed `generator.`)."""
    return DeepFloydIFGenerator(validate(DeepFloydIFGenerator.Options, options, "generator"))


def png(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def max_level_diff(a, b) -> int:
    import numpy as np

    return int(np.abs(np.asarray(a).astype(int) - np.asarray(b).astype(int)).max())


def spy_calls(monkeypatch, cls_name: str, method: str, log: list):
    cls = getattr(diffusers, cls_name)
    real = getattr(cls, method)

    def wrapper(self, *args, **kwargs):
        log.append((method, args, kwargs))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(cls, method, wrapper)


def test_three_stages_shared_t5_and_prompt_override(monkeypatch, make_jobs):
    calls: list = []
    for cls_name in ("IFPipeline", "IFSuperResolutionPipeline", "StableDiffusionUpscalePipeline"):
        spy_calls(monkeypatch, cls_name, "__call__", calls)
    spy_calls(monkeypatch, "IFPipeline", "encode_prompt", calls)
    gen = deepfloyd(**TINY, stages=[
        {"prompt": "A photo of {prompt}"},
        {"prompt": "An oil painting of {prompt}", "guidance": 2.0, "noise_level": 100},
        {"steps": 1, "noise_level": 20},
    ])
    images = gen.generate(make_jobs(["a corgi", "a red cube"]), FAST)
    assert [im.size for im in images] == [(128, 128)] * 2  # 16 -> 32 -> x4
    assert gen.loader.loads == ["text_encoder", "stage_1", "stage_2", "stage_3"]

    # T5 runs once per batch, on every stage's texts and the empty prompt; the stages'
    # own encode_prompt calls get the embeddings (prompt=None) and run no encoder.
    encodes = [c for c in calls if c[0] == "encode_prompt" and (c[1] or [None])[0] is not None]
    assert len(encodes) == 1
    assert encodes[0][1][0] == ["A photo of a corgi", "A photo of a red cube", "An oil painting of a corgi",
                                "An oil painting of a red cube", ""]
    stage1, stage2, stage3 = [c[2] for c in calls if c[0] == "__call__"]
    encoder = gen.load_encoder()
    expected, _ = encoder.encode_prompt(["A photo of a corgi", "An oil painting of a corgi"], do_classifier_free_guidance=False)
    assert torch.equal(stage1["prompt_embeds"][0], expected[0])
    assert torch.equal(stage2["prompt_embeds"][0], expected[1])
    assert stage2["guidance_scale"] == 2.0 and stage2["noise_level"] == 100 and stage1["guidance_scale"] == 4.0
    assert stage3["prompt"] == ["a corgi", "a red cube"] and stage3["num_inference_steps"] == 1
    assert stage3["noise_level"] == 20


def test_determinism_and_two_stage_cascade(make_jobs):
    jobs = make_jobs(["a corgi", "a red cube"], seed0=3)
    two_stage = {**TINY, "stage_3": None}
    one = deepfloyd(**two_stage).generate(jobs, FAST)
    again = deepfloyd(**two_stage, loading="resident").generate(jobs, FAST)
    assert [im.size for im in one] == [(32, 32)] * 2
    assert [png(i) for i in one] == [png(i) for i in again]
    # Another batching changes at most the last bit of a pixel (CPU kernels differ by batch
    # size), never the noise: the runner's fixed batches make re-made images byte-identical.
    micro = deepfloyd(**two_stage, micro_batch_size=1).generate(jobs, FAST)
    assert all(max_level_diff(a, b) <= 1 for a, b in zip(one, micro))
    fp = deepfloyd(**two_stage).fingerprint()
    assert [s["ref"] for s in fp["stages"]] == ["builtin:tiny-if-1", "builtin:tiny-if-2"]
    assert all(len(s["dir_sha"]) == 16 for s in fp["stages"])
    hub = deepfloyd().fingerprint()  # hub ids: nothing is loaded or downloaded to fingerprint
    assert hub["stages"][0] == {"ref": "DeepFloyd/IF-I-XL-v1.0", "revision": "main", "guidance": None,
                                "steps": None, "prompt": None, "noise_level": None}


def test_long_prompt_warning(make_jobs):
    gen = deepfloyd(**{**TINY, "stage_3": None})
    with pytest.warns(PromptTruncationWarning, match=r"^1 of 1 prompt\(s\) are longer than IF's 77 T5 tokens"):
        gen.generate(make_jobs(["word " * 40]), GenerationConfig(num_inference_steps=1, guidance_scale=1.0))
    assert gen.prompts_truncated == 1


@pytest.mark.parametrize(
    "options, message",
    [
        ({"stage_1": "/no/such/if-stage"}, r"^generator\.stage_1: stage I pipeline folder /no/such/if-stage does not exist"),
        ({"stage_2": None}, r"^generator\.stage_2: stage_1 and stage_2 are required \(stage_3 is optional"),
        ({"stages": [{}, {}, {}, {}]}, r"^generator\.stages: has 4 entries but 3 stage\(s\) run"),
        ({"stage_3": None, "stages": [{}, {}, {}]}, r"^generator\.stages: has 3 entries but 2 stage\(s\) run"),
        ({"stages": [{"noise_level": 10}]}, r"^generator\.stages\.0\.noise_level: meaningless for stage I"),
        ({"stages": [{}, {"noise_level": 1000}]}, r"^generator\.stages\.1\.noise_level: must be less than 1000 \(got 1000\)$"),
        ({"stages": [{}, {"noise_level": 2.5}]}, r"^generator\.stages\.1\.noise_level: must be a whole number \(got 2\.5\)$"),
        ({"stages": [{}, {"aug_level": 0.1}]}, r"^generator\.stages\.1\.aug_level: unknown option; did you mean 'noise_level'\?"),
        ({"stages": [{"steps": 0}]}, r"^generator\.stages\.0\.steps: must be greater than or equal to 1 \(got 0\)$"),
        ({"clean_caption": "yes"}, r"^generator\.clean_caption: must be true or false \(got 'yes'\)$"),
        ({"micro_batch_size": -1}, r"^generator\.micro_batch_size: must be greater than or equal to 1"),
        ({"loading": "lazy"}, r"^generator\.loading: must be 'sequential' or 'resident'"),
        ({"stage_3": ""}, r"^generator\.stage_3: "),
        ({"variantt": "fp16"}, r"^generator\.variantt: unknown option; did you mean 'variant'\?"),
    ],
)
def test_option_errors(options, message):
    with pytest.raises(UserError, match=message):
        from_spec(**{**TINY, **options})


def test_noise_level_defaults_and_nulls():
    gen = from_spec(**TINY, stages=[None, {"noise_level": None, "steps": 3}])
    assert [(s.noise_level, s.steps) for s in gen.stages] == [(None, None), (250, 3), (100, None)]


def copy_stage(tmp_path, ref: str, edit_unet: dict | None = None):
    """A copy of a built-in stage folder, its UNet config edited (weights untouched)."""
    folder = tmp_path / ref.split(":")[1]
    shutil.copytree(builtin.resolve(ref), folder)
    if edit_unet:
        config = folder / "unet" / "config.json"
        config.write_text(json.dumps({**json.loads(config.read_text()), **edit_unet}))
    return str(folder)


def test_check_reads_configs_only(tmp_path, monkeypatch):
    """Wrong pipeline in a folder, a stage II for another T5 width, a noise level the x4
    upscaler refuses: all found by check() before any weights load."""
    def no_weights(*args, **kwargs):
        raise AssertionError("check() must not load weights")

    for cls in ("IFPipeline", "IFSuperResolutionPipeline", "StableDiffusionUpscalePipeline"):
        monkeypatch.setattr(getattr(diffusers, cls), "from_pretrained", no_weights)
    deepfloyd(**TINY).check(GenerationConfig())
    with pytest.raises(UserError, match=r"^generator\.stage_2: builtin:tiny-if-1 holds IFPipeline where the stage II pipeline must be IFSuperResolutionPipeline$"):
        deepfloyd(**{**TINY, "stage_2": "builtin:tiny-if-1"}).check()
    wide = copy_stage(tmp_path, "builtin:tiny-if-2", {"encoder_hid_dim": 64})
    with pytest.raises(UserError, match=r"stage II pipeline's UNet takes text embeddings of size 64 \(encoder_hid_dim\) but stage I's T5 encoder produces 48"):
        deepfloyd(**{**TINY, "stage_2": wide}).check()
    with pytest.raises(UserError, match=r"^generator\.stages\.2\.noise_level: the x4 upscaler takes noise levels up to 350 \(its max_noise_level\) \(got 400\)$"):
        deepfloyd(**TINY, stages=[{}, {}, {"noise_level": 400}]).check()


def test_fixed_output_size(make_jobs):
    gen = deepfloyd(**TINY)
    with pytest.raises(UserError, match=r"^generation\.height/width: the output size is fixed by the stages"):
        gen.check(GenerationConfig(height=64))
    with pytest.raises(UserError, match="output size is fixed by the stages"):
        gen.generate(make_jobs(["a"]), GenerationConfig(height=64))
    assert gen.loader.loads == []
