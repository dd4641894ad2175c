"""deepfloyd_if on tiny random-weight IF stages I/II and SD x4 upscaler, offline."""

from __future__ import annotations

import io

import diffusers
import pytest
import torch

from evalkit.errors import UserError
from evalkit.generators.cascade.deepfloyd_if import DeepFloydIFGenerator
from evalkit.generators.text_encoders import PromptTruncationWarning
from evalkit.types import GenerationConfig

TINY = {"stage_1": "builtin:tiny-if-1", "stage_2": "builtin:tiny-if-2", "stage_3": "builtin:tiny-sd-x4-upscaler"}
FAST = GenerationConfig(num_inference_steps=2, guidance_scale=4.0)


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
    gen = DeepFloydIFGenerator(**TINY, stages=[
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
    encoder = gen._load_encoder()
    expected, _ = encoder.encode_prompt(["A photo of a corgi", "An oil painting of a corgi"], do_classifier_free_guidance=False)
    assert torch.equal(stage1["prompt_embeds"][0], expected[0])
    assert torch.equal(stage2["prompt_embeds"][0], expected[1])
    assert stage2["guidance_scale"] == 2.0 and stage2["noise_level"] == 100 and stage1["guidance_scale"] == 4.0
    assert stage3["prompt"] == ["a corgi", "a red cube"] and stage3["num_inference_steps"] == 1
    assert stage3["noise_level"] == 20


def test_determinism_and_two_stage_cascade(make_jobs):
    jobs = make_jobs(["a corgi", "a red cube"], seed0=3)
    two_stage = {**TINY, "stage_3": None}
    one = DeepFloydIFGenerator(**two_stage).generate(jobs, FAST)
    again = DeepFloydIFGenerator(**two_stage, loading="resident").generate(jobs, FAST)
    assert [im.size for im in one] == [(32, 32)] * 2
    assert [png(i) for i in one] == [png(i) for i in again]
    # Another batching changes at most the last bit of a pixel (CPU kernels differ by batch
    # size), never the noise: the runner's fixed batches make re-made images byte-identical.
    micro = DeepFloydIFGenerator(**two_stage, micro_batch_size=1).generate(jobs, FAST)
    assert all(max_level_diff(a, b) <= 1 for a, b in zip(one, micro))
    fp = DeepFloydIFGenerator(**two_stage).fingerprint()
    assert [s["ref"] for s in fp["stages"]] == ["builtin:tiny-if-1", "builtin:tiny-if-2"]
    assert all(len(s["dir_sha"]) == 16 for s in fp["stages"])
    hub = DeepFloydIFGenerator().fingerprint()  # hub ids: nothing is loaded or downloaded to fingerprint
    assert hub["stages"][0] == {"ref": "DeepFloyd/IF-I-XL-v1.0", "revision": "main", "guidance": None,
                                "steps": None, "prompt": None, "noise_level": None}


def test_long_prompt_warning(make_jobs):
    gen = DeepFloydIFGenerator(**{**TINY, "stage_3": None})
    with pytest.warns(PromptTruncationWarning, match=r"^1 of 1 prompt\(s\) are longer than IF's 77 T5 tokens"):
        gen.generate(make_jobs(["word " * 40]), GenerationConfig(num_inference_steps=1, guidance_scale=1.0))
    assert gen.prompts_truncated == 1


@pytest.mark.parametrize(
    "options, message",
    [
        ({"stage_1": "/no/such/if-stage"}, r"stage I pipeline folder /no/such/if-stage does not exist"),
        ({"stage_2": None}, "stage_1 and stage_2 are required"),
        ({"stages": [{}, {}, {}, {}]}, "has 4 entries but the cascade has 3"),
        ({"stages": [{"noise_level": 10}]}, r"stages\[0\].noise_level is meaningless"),
        ({"stages": [{}, {"noise_level": 1000}]}, r"noise_level must be an integer timestep in \[0, 1000\)"),
    ],
)
def test_option_errors(options, message):
    with pytest.raises(UserError, match=message):
        DeepFloydIFGenerator(**{**TINY, **options})


def test_fixed_output_size(make_jobs):
    gen = DeepFloydIFGenerator(**TINY)
    with pytest.raises(UserError, match="output size is fixed by the stages"):
        gen.generate(make_jobs(["a"]), GenerationConfig(height=64))
