"""The imagen_pytorch generator on a tiny cascade trained with ImagenTrainer (conftest.py):
sampling through the package's own sample(), per-image seeds, per-unet prompts and
guidance, pluggable encoders, the checkpoint layouts and safe loading."""

from __future__ import annotations

import io
import json
import os
import sys
from fractions import Fraction

import numpy as np
import pytest
import torch

from evalkit.errors import UserError
from evalkit.generators.imagen_pytorch import ImagenPytorchGenerator, encode_zero_padded
from evalkit.generators.imagen_pytorch_sampling import per_image_noise
from evalkit.types import GenerationConfig, ImageJob, Prompt

pytestmark = pytest.mark.slow  # the session fixture trains the cascade (about a minute)

CONFIG = GenerationConfig(num_inference_steps=2, guidance_scale=3.0)
TEXTS = ["a red cube on a table", "two dogs", "a sign that reads hello"]


def jobs(texts=TEXTS, seeds=(11, 12, 13)) -> list[ImageJob]:
    return [ImageJob(Prompt(f"p{i}", t), 0, s) for i, (t, s) in enumerate(zip(texts, seeds))]


def make(tiny, **options) -> ImagenPytorchGenerator:
    return ImagenPytorchGenerator.create(model=str(tiny.checkpoint), batch_size=3, **options)


def pngs(images) -> list[bytes]:
    out = []
    for image in images:
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        out.append(buf.getvalue())
    return out


def recorded(gen) -> list:
    """Spy on the skeleton's per-unet calls: (unet index, texts, images in [-1, 1])."""
    seen, real = [], gen.sample

    def spy(part, micro):
        out = real(part, micro)
        seen.append((micro.stage.index, list(micro.texts), out.clone()))
        return out

    gen.sample = spy
    return seen


def test_images_depend_only_on_the_seed_and_settings(tiny):
    gen = make(tiny)
    first = gen.generate(jobs(), CONFIG)
    assert [im.size for im in first] == [(32, 32)] * 3
    assert pngs(gen.generate(jobs(), CONFIG)) == pngs(first)  # the same batch again: byte-identical
    alone = gen.generate(jobs(TEXTS[1:2], (12,)), CONFIG)[0]  # the same job in another batch
    assert np.abs(np.asarray(alone, int) - np.asarray(first[1], int)).max() <= 1
    reseeded = gen.generate(jobs(seeds=(11, 99, 13)), CONFIG)
    assert pngs(reseeded)[0] == pngs(first)[0] and pngs(reseeded)[1] != pngs(first)[1]


def test_one_unet_per_call_gives_what_one_sample_over_the_cascade_gives(tiny):
    gen = make(tiny)
    ours = gen.generate(jobs(), CONFIG)
    model = gen.load_stage(None)
    encoder = gen.load_encoder()
    pairs = encode_zero_padded(encoder, TEXTS)
    saved = [s.num_timesteps for s in model.noise_schedulers]
    for s in model.noise_schedulers:
        s.num_timesteps = CONFIG.num_inference_steps
    try:
        with per_image_noise([torch.Generator().manual_seed(s) for s in (11, 12, 13)]):
            direct = model.sample(text_embeds=torch.stack([e for e, _ in pairs]), text_masks=torch.stack([m for _, m in pairs]),
                                  cond_scale=CONFIG.guidance_scale, use_tqdm=False)
    finally:
        for s, n in zip(model.noise_schedulers, saved):
            s.num_timesteps = n
    theirs = (direct.permute(0, 2, 3, 1).numpy() * 255).round()
    diff = np.abs(np.stack([np.asarray(im, float) for im in ours]) - theirs)
    assert diff.max() <= 1 and (diff == 0).mean() > 0.99  # only the [0,1] <-> [-1,1] round trip between unets


def test_the_style_edit_runs_the_base_with_one_prompt_and_the_upscaler_with_another(tiny):
    photo = "A photo of {prompt}"
    base = make(tiny, stop_at_unet_number=1, stages=[{"prompt": photo}])
    edit = make(tiny, stages=[{"prompt": photo}, {"prompt": "An oil painting of {prompt}"}])
    same = make(tiny, stages=[{"prompt": photo}, {"prompt": photo}])
    small = base.generate(jobs(), CONFIG)
    assert {im.size for im in small} == {(16, 16)}
    seen_edit, seen_same, seen_base = recorded(edit), recorded(same), recorded(base)
    edited, kept = edit.generate(jobs(), CONFIG), same.generate(jobs(), CONFIG)
    base.generate(jobs(), CONFIG)
    assert seen_edit[0][1] == [photo.format(prompt=t) for t in TEXTS]
    assert seen_edit[1][1] == [f"An oil painting of {t}" for t in TEXTS]
    assert torch.equal(seen_edit[0][2], seen_base[0][2]) and torch.equal(seen_edit[0][2], seen_same[0][2])
    assert pngs(edited) != pngs(kept)


def test_guidance_and_steps_are_set_per_unet(tiny):
    a = make(tiny, stages=[{"guidance": 1.0}, {"guidance": 5.0, "steps": 3}])
    b = make(tiny, stages=[{"guidance": 1.0}, {"guidance": 2.0, "steps": 3}])
    seen_a, seen_b = recorded(a), recorded(b)
    a.generate(jobs(), CONFIG)
    b.generate(jobs(), CONFIG)
    assert torch.equal(seen_a[0][2], seen_b[0][2]) and not torch.equal(seen_a[1][2], seen_b[1][2])
    model = a.load_stage(None)
    assert [s.num_timesteps for s in model.noise_schedulers] == [1000, 1000]  # restored after each call


def test_a_pluggable_encoder_of_the_same_width_conditions_the_model(tiny):
    bert = make(tiny, text_encoder=str(tiny.bert))
    assert bert.encoder.kind == "bert" and bert.encoder.max_length == 128  # the tiny BERT's positions
    assert pngs(bert.generate(jobs(), CONFIG)) != pngs(make(tiny).generate(jobs(), CONFIG))
    assert bert.fingerprint()["text_encoder"]["type"] == "bert"


def test_an_encoder_of_another_width_is_one_line_naming_both(tiny, tmp_path):
    from evalkit.generators.cascade.build import TINY_ENCODERS, _build_encoder

    _build_encoder({"type": "clip", "max_length": 77, "config": TINY_ENCODERS["clip"]}, tmp_path, torch.float32)
    gen = make(tiny, text_encoder=str(tmp_path / "text_encoder"))
    with pytest.raises(UserError) as err:
        gen.check(CONFIG)
    assert "40-wide" in str(err.value) and "32-wide" in str(err.value) and "\n" not in str(err.value)


def test_our_t5_embeddings_are_the_packages_own(tiny):
    from imagen_pytorch.t5 import t5_encode_tokenized_text

    encoder = make(tiny).load_encoder()
    tokens = encoder.tokenizer(TEXTS, padding="longest", return_tensors="pt")
    theirs = t5_encode_tokenized_text(tokens.input_ids, attn_mask=tokens.attention_mask, name=str(tiny.t5))
    ours = encode_zero_padded(encoder, TEXTS)
    length = theirs.shape[1]
    for (embedding, mask), their in zip(ours, theirs):
        torch.testing.assert_close(embedding[:length], their, rtol=1e-5, atol=1e-6)
        assert not embedding[length:].any() and int(mask.sum()) <= length


def test_config_plus_weights_give_the_trainer_checkpoints_images(tiny, tmp_path):
    from safetensors.torch import save_file

    saved = torch.load(tiny.checkpoint, weights_only=True)
    torch.save(saved["model"], tmp_path / "weights.pt")
    save_file({k: v.contiguous() for k, v in saved["model"].items()}, tmp_path / "weights.safetensors")
    online = pngs(make(tiny, ema=False).generate(jobs(), CONFIG))
    for weights in ("weights.pt", "weights.safetensors"):
        gen = ImagenPytorchGenerator.create(model=str(tmp_path / weights), config=str(tiny.config), batch_size=3)
        assert gen.ckpt.ema == (False, False)
        assert pngs(gen.generate(jobs(), CONFIG)) == online
    with pytest.raises(UserError, match="records no Imagen config"):
        ImagenPytorchGenerator.create(model=str(tmp_path / "weights.pt"))
    with pytest.raises(UserError, match="no updated EMA weights"):
        ImagenPytorchGenerator.create(model=str(tmp_path / "weights.pt"), config=str(tiny.config), ema=True)


def test_ema_weights_are_used_when_the_trainer_updated_them(tiny):
    assert make(tiny).ckpt.ema == (True, True)
    assert make(tiny, ema=False).ckpt.ema == (False, False)


def test_a_checkpoint_with_python_objects_needs_trust_and_stays_inside_its_path(tiny, tmp_path):
    saved = torch.load(tiny.checkpoint, weights_only=True)
    risky = tmp_path / "risky.pt"
    torch.save({**saved, "note": Fraction(1, 3)}, risky)  # not a tensor or plain container
    with pytest.raises(UserError, match="trust_checkpoint: true") as err:
        ImagenPytorchGenerator.create(model=str(risky))
    assert "\n" not in str(err.value)
    assert ImagenPytorchGenerator.create(model=str(risky), trust_checkpoint=True).ckpt.unet_count == 2
    folder = tmp_path / "ckpts"
    folder.mkdir()
    os.symlink(risky, folder / "checkpoint.7.pt")
    with pytest.raises(UserError, match="outside"):
        ImagenPytorchGenerator.create(model=str(folder), trust_checkpoint=True)


def test_a_trainer_checkpoint_folder_gives_its_newest_checkpoint(tiny, tmp_path):
    import shutil

    for steps in (2, 10):
        shutil.copy(tiny.checkpoint, tmp_path / f"checkpoint.{steps}.pt")
    assert ImagenPytorchGenerator.create(model=str(tmp_path)).ckpt.path.name == "checkpoint.10.pt"
    with pytest.raises(UserError, match="does not exist"):
        ImagenPytorchGenerator.create(model=str(tmp_path / "nothing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="holds no checkpoint"):
        ImagenPytorchGenerator.create(model=str(tmp_path / "empty"))


def test_settings_the_model_cannot_honour_are_refused_before_any_image(tiny, tmp_path):
    gen = make(tiny)
    with pytest.raises(UserError, match="negative_prompt"):
        gen.check(GenerationConfig(negative_prompt="blurry"))
    with pytest.raises(UserError, match="makes 32x32 images"):
        gen.check(GenerationConfig(height=64))
    with pytest.raises(UserError, match="between 1 and 2"):
        make(tiny, stop_at_unet_number=3)
    with pytest.raises(UserError, match="meaningless for unet 1"):
        make(tiny, stages=[{"lowres_sample_noise_level": 0.3}])
    config = json.loads(tiny.config.read_text())
    config["imagen"]["cond_drop_prob"] = 0.0
    (tmp_path / "nodrop.json").write_text(json.dumps(config))
    torch.save(torch.load(tiny.checkpoint, weights_only=True)["model"], tmp_path / "w.pt")
    nodrop = ImagenPytorchGenerator.create(model=str(tmp_path / "w.pt"), config=str(tmp_path / "nodrop.json"))
    with pytest.raises(UserError, match="cannot use guidance"):
        nodrop.check(CONFIG)
    nodrop.check(GenerationConfig(guidance_scale=1.0))


def test_the_import_time_hub_lookup_is_one_clear_line(tiny, tmp_path, monkeypatch):
    """`import imagen_pytorch` reads google/t5-v1_1-base's config: without it in the cache, offline."""
    from huggingface_hub import constants

    from evalkit.generators.imagen_pytorch_checkpoint import import_imagen_pytorch

    loaded = {k: v for k, v in sys.modules.items() if k == "imagen_pytorch" or k.startswith("imagen_pytorch.")}
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    for name in loaded:
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(UserError) as err:
        import_imagen_pytorch()
    message = str(err.value)
    assert "google/t5-v1_1-base" in message and str(tmp_path / "empty-hub") in message and "\n" not in message
    monkeypatch.setitem(sys.modules, "imagen_pytorch", None)  # as if not installed
    with pytest.raises(UserError, match=r"pip install 'evalkit\[imagen-pytorch\]'"):
        import_imagen_pytorch()
    # monkeypatch puts the package's first import back, so later tests see the same classes


def test_the_fingerprint_names_the_checkpoint_the_encoder_and_the_settings(tiny):
    fp = make(tiny, stages=[{"guidance": 2.0}]).fingerprint()
    assert fp["generator"] == "imagen_pytorch" and len(fp["checkpoint_sha"]) == 64
    assert fp["text_encoder"]["type"] == "t5" and fp["text_encoder"]["dir_sha"]
    assert fp["stages"][0]["guidance"] == 2.0 and fp["ema"] == [True, True] and fp["imagen_pytorch"] == "2.1.0"
    assert make(tiny).fingerprint() != fp


def test_half_precision_runs_the_unets_under_autocast(tiny):
    full = np.stack([np.asarray(im, float) for im in make(tiny).generate(jobs(), CONFIG)])
    for dtype in ("bfloat16", "float16"):
        half = np.stack([np.asarray(im, float) for im in make(tiny, dtype=dtype).generate(jobs(), CONFIG)])
        assert 0 < np.abs(half - full).mean() < 2  # another precision, the same images to a level or two
