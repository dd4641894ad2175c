"""imagen_cascade on tiny random-weight cascades (and the real MiniLM encoder), offline."""

from __future__ import annotations

import io
import json
import shutil

import numpy as np
import pytest
import torch

from evalkit.errors import UserError
from evalkit.generators import imagen_cascade as module
from evalkit.generators.cascade.imagen import ImagenCascadeGenerator
from evalkit.generators.text_encoders import PromptTruncationWarning
from evalkit.generators.tiny import resolve_builtin
from evalkit.types import GenerationConfig

FAST = GenerationConfig(num_inference_steps=2, guidance_scale=3.0)


def png(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize("kind, run_stages", [("bert", 3), ("t5", 2), ("clip", 2)])
def test_each_encoder_type_through_the_cascade(kind, run_stages, make_jobs):
    gen = ImagenCascadeGenerator(f"builtin:tiny-imagen-{kind}", run_stages=run_stages,
                                 stages=[{}, {"aug_level": 0.2}, {"aug_level": 0.1}][:run_stages])
    images = gen.generate(make_jobs(["a red cube", "two dogs on a sofa"], seed0=7), FAST)
    size = 16 * 2 ** (run_stages - 1)  # 16 -> 32 -> 64
    assert [im.size for im in images] == [(size, size)] * 2
    assert png(images[0]) != png(images[1])
    assert gen.loader.loads == ["text_encoder"] + [f"stage_{i + 1}" for i in range(run_stages)]
    fp = gen.fingerprint()
    assert fp["text_encoder"]["type"] == kind and len(fp["model_dir_sha"]) == 16
    assert json.dumps(fp)  # goes into samples.parquet and the run directory


def test_real_minilm_encoder_through_the_bert_path(make_jobs):
    """The pretrained MiniLM (BertModel + its WordPiece tokenizer) loads offline and conditions the cascade."""
    gen = ImagenCascadeGenerator("builtin:tiny-imagen-minilm", run_stages=2)
    encoder = gen.encoder.load("cpu", torch.float32)
    assert type(encoder.model).__name__ == "BertModel" and encoder.model.config.hidden_size == 384
    hidden, mask = encoder.encode(["a photo of a dog", "a picture of a puppy", "quarterly tax report"])
    pooled = torch.nn.functional.normalize((hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True), dim=-1)
    related, unrelated = (pooled[0] @ pooled[1]).item(), (pooled[0] @ pooled[2]).item()
    assert related > unrelated + 0.2, (related, unrelated)  # real sentence-embedding weights, not random ones
    texts = ["a photo of a dog", "quarterly tax report"]
    images = gen.generate(make_jobs(texts, seed0=5) + make_jobs(texts[:1], seed0=5), FAST)
    assert images[0].size == (32, 32)
    assert png(images[0]) != png(images[1])  # same seed, other text: the encoder conditions the image
    assert png(images[0]) == png(images[2])


def test_stage_prompt_override_reaches_the_right_stage(monkeypatch, make_jobs):
    seen = []
    real = module.sample_stage

    def spy(unet, scheduler, text, uncond, generators, size, run, **kw):
        seen.append((size, text[0].clone()))
        return real(unet, scheduler, text, uncond, generators, size, run, **kw)

    monkeypatch.setattr(module, "sample_stage", spy)
    gen = ImagenCascadeGenerator(
        "builtin:tiny-imagen-t5",
        stages=[{"prompt": "A photo of {prompt}"}, {"prompt": "An oil painting of {prompt}"}],
    )
    gen.generate(make_jobs(["a corgi"]), GenerationConfig(num_inference_steps=1, guidance_scale=1.0))
    encoder = gen.encoder.load("cpu", torch.float32)
    expected = {16: "A photo of a corgi", 32: "An oil painting of a corgi", 64: "a corgi"}
    assert [size for size, _ in seen] == [16, 32, 64]
    for size, hidden in seen:
        assert torch.equal(hidden[0], encoder.encode([expected[size]])[0][0]), size


def test_determinism_across_instances_loading_modes_and_batches(make_jobs):
    jobs = make_jobs(["a red cube", "a blue sphere"], seed0=11)
    one = ImagenCascadeGenerator("builtin:tiny-imagen-clip", run_stages=2).generate(jobs, FAST)
    two = ImagenCascadeGenerator("builtin:tiny-imagen-clip", run_stages=2, loading="resident",
                                 micro_batch_size=1).generate(jobs, FAST)
    alone = ImagenCascadeGenerator("builtin:tiny-imagen-clip", run_stages=2).generate(jobs[:1], FAST)
    assert [png(i) for i in one] == [png(i) for i in two]
    # Noise comes from the job's own generator, so another batch changes at most the last bit
    # of a pixel (CPU kernels differ by batch size); the runner's fixed batches make re-made
    # images byte-identical.
    diff = np.abs(np.asarray(alone[0]).astype(int) - np.asarray(one[0]).astype(int)).max()
    assert diff <= 1


def test_settings_change_the_fingerprint_and_the_images(make_jobs):
    jobs = make_jobs(["a red cube"])
    dyn = ImagenCascadeGenerator("builtin:tiny-imagen-bert", run_stages=1)
    static = ImagenCascadeGenerator("builtin:tiny-imagen-bert", run_stages=1, thresholding="static")
    assert dyn.fingerprint() != static.fingerprint()
    cfg = GenerationConfig(num_inference_steps=2, guidance_scale=30.0)  # strong guidance saturates x0
    assert png(dyn.generate(jobs, cfg)[0]) != png(static.generate(jobs, cfg)[0])


def test_sequential_reloads_each_batch_resident_loads_once(make_jobs):
    cfg = GenerationConfig(num_inference_steps=1, guidance_scale=1.0)
    for loading, expected in (("sequential", 2), ("resident", 1)):
        gen = ImagenCascadeGenerator("builtin:tiny-imagen-bert", run_stages=1, loading=loading)
        gen.generate(make_jobs(["a"]), cfg)
        gen.generate(make_jobs(["b"]), cfg)
        assert gen.loader.loads.count("stage_1") == expected, loading


def test_missing_checkpoint_folder(tmp_path):
    with pytest.raises(UserError, match=r"checkpoint folder .*nope does not exist"):
        ImagenCascadeGenerator(str(tmp_path / "nope"))
    broken = tmp_path / "broken"
    shutil.copytree(resolve_builtin("builtin:tiny-imagen-bert"), broken)
    shutil.rmtree(broken / "stage_2" / "unet")
    with pytest.raises(UserError, match=r"stage folder .*stage_2 has no unet/config.json"):
        ImagenCascadeGenerator(str(broken))


def test_cross_attention_size_mismatch(make_jobs):
    """The bert cascade's UNets project 32-d embeddings; MiniLM produces 384-d ones."""
    minilm = resolve_builtin("builtin:tiny-imagen-minilm") / "text_encoder"
    gen = ImagenCascadeGenerator("builtin:tiny-imagen-bert", text_encoder=str(minilm))
    with pytest.raises(UserError, match=r"stage_1's UNet takes text embeddings of size 32 \(encoder_hid_dim\) but the bert encoder produces 384"):
        gen.generate(make_jobs(["a"]), FAST)


def test_long_prompt_truncated_with_a_counted_warning(make_jobs):
    gen = ImagenCascadeGenerator("builtin:tiny-imagen-bert", run_stages=1)
    long = "a very long prompt " * 8  # one token per letter: 8 * 15 + 2 = 122 tokens > max_length 77
    with pytest.warns(PromptTruncationWarning, match=r"^1 of 2 prompt\(s\) are longer than the bert encoder's max_length of 77 tokens and were truncated$"):
        gen.generate(make_jobs([long, "short"]), GenerationConfig(num_inference_steps=1, guidance_scale=1.0))
    assert gen.prompts_truncated == 1


@pytest.mark.parametrize(
    "options, message",
    [
        ({"run_stages": 4}, "run_stages must be between 1 and 3"),
        ({"thresholding": "soft"}, "thresholding must be one of"),
        ({"loading": "lazy"}, "loading must be 'sequential'"),
        ({"dtype": "float64"}, "dtype 'float64' is not supported"),
        ({"stages": [{"aug_level": 0.5}]}, r"stages\[0\].aug_level is meaningless"),
        ({"text_encoder": "/no/such/encoder"}, "text_encoder folder /no/such/encoder does not exist"),
    ],
)
def test_option_errors(options, message):
    with pytest.raises(UserError, match=message):
        ImagenCascadeGenerator("builtin:tiny-imagen-bert", **options)


def test_generation_errors(make_jobs):
    gen = ImagenCascadeGenerator("builtin:tiny-imagen-bert", run_stages=2)
    with pytest.raises(UserError, match=r"makes 32x32 images after 2 stage\(s\)"):
        gen.generate(make_jobs(["a"]), GenerationConfig(height=64, width=64))
    euler = ImagenCascadeGenerator("builtin:tiny-imagen-bert", scheduler="EulerDiscreteScheduler")
    with pytest.raises(UserError, match="dynamic thresholding needs a scheduler"):
        euler.generate(make_jobs(["a"]), FAST)
    unknown = ImagenCascadeGenerator("builtin:tiny-imagen-bert", scheduler="FastScheduler")
    with pytest.raises(UserError, match="unknown diffusers scheduler 'FastScheduler'"):
        unknown.generate(make_jobs(["a"]), FAST)


def test_other_schedulers_sample(make_jobs):
    cfg = GenerationConfig(num_inference_steps=2, guidance_scale=2.0)
    for name, thresholding in (("DDIMScheduler", "dynamic"), ("DPMSolverMultistepScheduler", "static"),
                               ("EulerDiscreteScheduler", "none")):
        gen = ImagenCascadeGenerator("builtin:tiny-imagen-bert", run_stages=1, scheduler=name, thresholding=thresholding)
        assert gen.generate(make_jobs(["a"]), cfg)[0].size == (16, 16)
