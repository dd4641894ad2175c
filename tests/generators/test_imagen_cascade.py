"""imagen_cascade on tiny random-weight cascades (and the real MiniLM encoder), offline."""

from __future__ import annotations

import io
import json
import shutil

import numpy as np
import pytest
import torch

from evalkit import builtin
from evalkit.errors import UserError
from evalkit.generators.cascade import imagen as module
from evalkit.generators.cascade.imagen import ImagenCascadeGenerator
from evalkit.generators.text_encoders import PromptTruncationWarning
from evalkit.options import validate
from evalkit.types import GenerationConfig

FAST = GenerationConfig(num_inference_steps=2, guidance_scale=3.0)


def imagen(model: str, **options) -> ImagenCascadeGenerator:
    return ImagenCascadeGenerator.create(model=model, **options)


def from_spec(**options) -> ImagenCascadeGenerator:
    """As the CLI builds it from a spec's `generator:` mapping (errors prefixed `generator.`)."""
    return ImagenCascadeGenerator(validate(ImagenCascadeGenerator.Options, options, "generator"))


def png(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize("kind, run_stages", [("bert", 3), ("t5", 2), ("clip", 2)])
def test_each_encoder_type_through_the_cascade(kind, run_stages, make_jobs):
    gen = imagen(f"builtin:tiny-imagen-{kind}", run_stages=run_stages,
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
    gen = imagen("builtin:tiny-imagen-minilm", run_stages=2)
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

    def spy(models, cond, run):
        seen.append((run.size, cond.text[0].clone()))
        return real(models, cond, run)

    monkeypatch.setattr(module, "sample_stage", spy)
    gen = imagen(
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
    one = imagen("builtin:tiny-imagen-clip", run_stages=2).generate(jobs, FAST)
    two = imagen("builtin:tiny-imagen-clip", run_stages=2, loading="resident", micro_batch_size=1).generate(jobs, FAST)
    alone = imagen("builtin:tiny-imagen-clip", run_stages=2).generate(jobs[:1], FAST)
    assert [png(i) for i in one] == [png(i) for i in two]
    # Noise comes from the job's own generator, so another batch changes at most the last bit
    # of a pixel (CPU kernels differ by batch size); the runner's fixed batches make re-made
    # images byte-identical.
    diff = np.abs(np.asarray(alone[0]).astype(int) - np.asarray(one[0]).astype(int)).max()
    assert diff <= 1


def test_settings_change_the_fingerprint_and_the_images(make_jobs):
    jobs = make_jobs(["a red cube"])
    dyn = imagen("builtin:tiny-imagen-bert", run_stages=1)
    static = imagen("builtin:tiny-imagen-bert", run_stages=1, thresholding="static")
    assert dyn.fingerprint() != static.fingerprint()
    cfg = GenerationConfig(num_inference_steps=2, guidance_scale=30.0)  # strong guidance saturates x0
    assert png(dyn.generate(jobs, cfg)[0]) != png(static.generate(jobs, cfg)[0])


def test_sequential_reloads_each_batch_resident_loads_once(make_jobs):
    cfg = GenerationConfig(num_inference_steps=1, guidance_scale=1.0)
    for loading, expected in (("sequential", 2), ("resident", 1)):
        gen = imagen("builtin:tiny-imagen-bert", run_stages=1, loading=loading)
        gen.generate(make_jobs(["a"]), cfg)
        gen.generate(make_jobs(["b"]), cfg)
        assert gen.loader.loads.count("stage_1") == expected, loading


def test_missing_checkpoint_folder(tmp_path):
    with pytest.raises(UserError, match=r"checkpoint folder .*nope does not exist"):
        imagen(str(tmp_path / "nope"))
    broken = tmp_path / "broken"
    shutil.copytree(builtin.resolve("builtin:tiny-imagen-bert"), broken)
    shutil.rmtree(broken / "stage_2" / "unet")
    with pytest.raises(UserError, match=r"stage folder .*stage_2 has no unet/config.json"):
        imagen(str(broken))


def test_cross_attention_size_mismatch(make_jobs):
    """The bert cascade's UNets project 32-d embeddings; MiniLM produces 384-d ones. check()
    (which the runner calls before the first image) says so from the configs alone, and a
    direct generate() runs the same check before it loads any part."""
    minilm = builtin.resolve("builtin:tiny-imagen-minilm") / "text_encoder"
    mismatch = r"stage_1's UNet takes text embeddings of size 32 \(encoder_hid_dim\) but the bert encoder produces 384"
    with pytest.raises(UserError, match=mismatch):
        imagen("builtin:tiny-imagen-bert", text_encoder=str(minilm)).check()
    gen = imagen("builtin:tiny-imagen-bert", text_encoder=str(minilm))
    with pytest.raises(UserError, match=mismatch):
        gen.generate(make_jobs(["a"]), FAST)
    assert gen.loader.loads == []


def test_long_prompt_truncated_with_a_counted_warning(make_jobs):
    gen = imagen("builtin:tiny-imagen-bert", run_stages=1)
    long = "a very long prompt " * 8  # one token per letter: 8 * 15 + 2 = 122 tokens > max_length 77
    with pytest.warns(PromptTruncationWarning, match=r"^1 of 2 prompt\(s\) are longer than the bert encoder's max_length of 77 tokens and were truncated$"):
        gen.generate(make_jobs([long, "short"]), GenerationConfig(num_inference_steps=1, guidance_scale=1.0))
    assert gen.prompts_truncated == 1


@pytest.mark.parametrize(
    "options, message",
    [
        ({"run_stages": 4}, r"^generator\.run_stages: must be between 1 and 3, the cascade's stages \(got 4\)$"),
        ({"run_stages": 0}, r"^generator\.run_stages: must be greater than or equal to 1 \(got 0\)$"),
        ({"thresholding": "soft"}, r"^generator\.thresholding: must be 'none', 'static' or 'dynamic' \(got 'soft'\)$"),
        ({"loading": "lazy"}, r"^generator\.loading: must be 'sequential' or 'resident' \(got 'lazy'\)$"),
        ({"dtype": "float64"}, r"^generator\.dtype: must be 'float32', 'float16' or 'bfloat16' \(got 'float64'\)$"),
        ({"stages": [{"aug_level": 0.5}]}, r"^generator\.stages\.0\.aug_level: meaningless for stage 1, which has no low-resolution input"),
        ({"stages": [{}, {}, {}, {}]}, r"^generator\.stages: has 4 entries but 3 stage\(s\) run; remove the extra ones$"),
        ({"run_stages": 1, "stages": [{}, {}]}, r"^generator\.stages: has 2 entries but 1 stage\(s\) run"),
        ({"text_encoder": "/no/such/encoder"}, r"^generator\.text_encoder: folder /no/such/encoder does not exist"),
        # wrong types, ranges, unknown and nested options: one line with the dotted path
        ({"batch_size": "4"}, r"^generator\.batch_size: must be a whole number \(got '4'\)$"),
        ({"micro_batch_size": 0}, r"^generator\.micro_batch_size: must be greater than or equal to 1 \(got 0\)$"),
        ({"percentile": 0.0}, r"^generator\.percentile: must be greater than 0 \(got 0\.0\)$"),
        ({"aug_level": 1.0}, r"^generator\.aug_level: must be less than 1 \(got 1\.0\)$"),
        ({"max_length": 0}, r"^generator\.max_length: must be greater than or equal to 1"),
        ({"device": "banana"}, r"^generator\.device: "),
        ({"thresholdng": "static"}, r"^generator\.thresholdng: unknown option; did you mean 'thresholding'\?"),
        ({"stages": {"aug_level": 0.1}}, r"^generator\.stages: must be a list"),
        ({"stages": ["fast"]}, r"^generator\.stages\.0: must be a mapping \(got 'fast'\)$"),
        ({"stages": [{}, {"aug_level": 1.5}]}, r"^generator\.stages\.1\.aug_level: must be less than 1 \(got 1\.5\)$"),
        ({"stages": [{}, {"guidnce": 3.0}]}, r"^generator\.stages\.1\.guidnce: unknown option; did you mean 'guidance'\?"),
        ({"stages": [{"guidance": float("nan")}]}, r"^generator\.stages\.0\.guidance: must be a finite number \(got nan\)$"),
        ({"stages": [{"guidance": -1.0}]}, r"^generator\.stages\.0\.guidance: must be greater than or equal to 0"),
        ({"stages": [{"steps": 2.5}]}, r"^generator\.stages\.0\.steps: must be a whole number \(got 2\.5\)$"),
        ({"stages": [{}, {"percentile": 1.5}]}, r"^generator\.stages\.1\.percentile: must be less than or equal to 1"),
        ({"stages": [{}, {"thresholding": "soft"}]}, r"^generator\.stages\.1\.thresholding: must be 'none', 'static' or 'dynamic'"),
        ({"stages": [{"prompt": "A photo of a dog"}]}, r"^generator\.stages\.0\.prompt: must be a text containing \{prompt\}"),
    ],
)
def test_option_errors(options, message):
    with pytest.raises(UserError, match=message):
        from_spec(**{"model": "builtin:tiny-imagen-bert", **options})


def test_defaults_fill_every_stage_and_null_entries_mean_defaults():
    gen = from_spec(model="builtin:tiny-imagen-bert", thresholding="static", percentile=0.9, aug_level=0.2,
                    stages=[None, {"aug_level": 0.1, "steps": 3, "thresholding": None}])
    got = [(s.aug_level, s.thresholding, s.percentile, s.steps) for s in gen.stages]
    assert got == [(0.0, "static", 0.9, None), (0.1, "static", 0.9, 3), (0.2, "static", 0.9, None)]
    assert from_spec(model="builtin:tiny-imagen-bert", stages=None).stages == imagen("builtin:tiny-imagen-bert").stages


def test_generation_errors(make_jobs):
    """Each is found by check() from the configs, before any weights load."""
    gen = imagen("builtin:tiny-imagen-bert", run_stages=2)
    with pytest.raises(UserError, match=r"^generation\.height: this cascade makes 32x32 images after 2 stage\(s\) \(got 64\)"):
        gen.check(GenerationConfig(height=64, width=64))
    with pytest.raises(UserError, match=r"makes 32x32 images after 2 stage\(s\)"):
        gen.generate(make_jobs(["a"]), GenerationConfig(height=64, width=64))
    gen.check(GenerationConfig(height=32, width=32))
    euler = imagen("builtin:tiny-imagen-bert", scheduler="EulerDiscreteScheduler")
    with pytest.raises(UserError, match=r"^generator\.scheduler: stage 1 uses dynamic thresholding, and dynamic thresholding needs a scheduler"):
        euler.check()
    mixed = imagen("builtin:tiny-imagen-bert", scheduler="EulerDiscreteScheduler", thresholding="none",
                   stages=[{}, {"thresholding": "static"}])
    with pytest.raises(UserError, match=r"stage 2 uses static thresholding"):
        mixed.check()
    for name in ("FastScheduler", "UNet2DConditionModel"):  # a typo; a diffusers class that is no scheduler
        with pytest.raises(UserError, match=rf"^generator\.scheduler: '{name}' is not a diffusers scheduler class"):
            imagen("builtin:tiny-imagen-bert", scheduler=name).check()
    unknown = imagen("builtin:tiny-imagen-bert", scheduler="FastScheduler")
    with pytest.raises(UserError, match="'FastScheduler' is not a diffusers scheduler class"):
        unknown.generate(make_jobs(["a"]), FAST)
    assert euler.loader.loads == unknown.loader.loads == []


def test_other_schedulers_sample(make_jobs):
    cfg = GenerationConfig(num_inference_steps=2, guidance_scale=2.0)
    for name, thresholding in (("DDIMScheduler", "dynamic"), ("DPMSolverMultistepScheduler", "static"),
                               ("EulerDiscreteScheduler", "none")):
        gen = imagen("builtin:tiny-imagen-bert", run_stages=1, scheduler=name, thresholding=thresholding)
        assert gen.generate(make_jobs(["a"]), cfg)[0].size == (16, 16)


def test_build_command_makes_a_cascade_the_generator_loads(tmp_path, make_jobs, capsys):
    from evalkit.generators.cascade import build

    assert build.main([str(tmp_path / "c"), "--preset", "tiny-clip", "--seed", "3"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "c")
    gen = imagen(str(tmp_path / "c"), run_stages=1)
    gen.check()
    assert gen.generate(make_jobs(["a"]), FAST)[0].size == (16, 16)
    assert build.main([str(tmp_path / "d"), "--preset", "tiny-nope"]) == 2
    assert "unknown cascade preset 'tiny-nope'" in capsys.readouterr().err
