"""Tiny random-weight models built from configs, for offline tests and the smoke benchmark.

They are saved with `save_pretrained` (or a plain checkpoint for open_clip) into the
cache and loaded back through the very code path a user's real checkpoint takes.
`builtin:<name>` in a spec resolves to such a directory, built on first use.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from evalkit.cache import cache_dir
from evalkit.errors import UserError
from evalkit.generators.quiet import quiet_hf_logging

BUILTIN_PREFIX = "builtin:"
# Bump when a builder changes, so old cached builds are not reused.
_BUILD_VERSION = "1"


def _byte_level_vocab() -> tuple[dict[str, int], list[str]]:
    """A CLIP BPE vocabulary of single bytes (no merges): every text tokenizes, offline."""
    from open_clip.tokenizer import bytes_to_unicode  # the GPT-2/CLIP byte alphabet

    chars = list(bytes_to_unicode().values())
    tokens = chars + [c + "</w>" for c in chars] + ["<|startoftext|>", "<|endoftext|>"]
    return {t: i for i, t in enumerate(tokens)}, []


def build_tiny_sd(out_dir: Path, seed: int = 0) -> None:
    """A Stable-Diffusion-architecture pipeline (CLIP text encoder, UNet, VAE) at 64x64."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    vocab, merges = _byte_level_vocab()
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=32, in_channels=4, out_channels=4, layers_per_block=1,
        block_out_channels=(32, 64), down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32, attention_head_dim=8,
    )
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(32, 64),
        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
    )
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(vocab), hidden_size=32, intermediate_size=37, num_hidden_layers=2,
        num_attention_heads=4, max_position_embeddings=77, bos_token_id=vocab["<|startoftext|>"],
        eos_token_id=vocab["<|endoftext|>"], pad_token_id=vocab["<|endoftext|>"],
    ))
    tokenizer = CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77)
    scheduler = DDIMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
        set_alpha_to_one=False, steps_offset=1,
    )
    pipe = StableDiffusionPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )
    quiet_hf_logging()
    pipe.save_pretrained(out_dir)


TINY_CLIP_CONFIG = {
    "embed_dim": 64,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "head_width": 32, "patch_size": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


def build_tiny_clip(out_dir: Path, seed: int = 0) -> None:
    """An open_clip folder (open_clip_config.json + weights), loaded as `local-dir:` like a real one."""
    import torch
    from open_clip.model import CLIP
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    config = {"model_cfg": TINY_CLIP_CONFIG, "preprocess_cfg": {}}
    (out_dir / "open_clip_config.json").write_text(json.dumps(config, indent=2))
    torch.manual_seed(seed)
    model = CLIP(**TINY_CLIP_CONFIG)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, out_dir / "open_clip_model.safetensors")


def build_tiny_clip_hf(out_dir: Path, seed: int = 0) -> None:
    """A transformers CLIPModel + CLIPProcessor folder (save_pretrained), random weights."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer

    vocab, merges = _byte_level_vocab()
    torch.manual_seed(seed)
    config = CLIPConfig(
        text_config={
            "vocab_size": len(vocab), "hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2,
            "num_attention_heads": 4, "max_position_embeddings": 77,
            "bos_token_id": vocab["<|startoftext|>"], "eos_token_id": vocab["<|endoftext|>"],
            "pad_token_id": vocab["<|endoftext|>"],
        },
        vision_config={"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2,
                       "num_attention_heads": 4, "image_size": 64, "patch_size": 16},
        projection_dim=32,
    )
    model = CLIPModel(config)
    tokenizer = CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77)
    images = CLIPImageProcessor(size={"shortest_edge": 64}, crop_size={"height": 64, "width": 64})
    quiet_hf_logging()
    model.save_pretrained(out_dir)
    CLIPProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(out_dir)


def _cascade_builder(preset: str) -> Callable[[Path], None]:
    """An Imagen-style cascade (16 -> 32 -> 64) with the preset's text encoder; see cascade_build.py."""

    def build(out_dir: Path, seed: int = 0) -> None:
        from evalkit.generators.cascade_build import build_cascade, preset as arch

        build_cascade(out_dir, arch(preset), seed=seed)

    return build


def _if_builder(stage: str) -> Callable[[Path], None]:
    """A DeepFloyd-IF-architecture pipeline folder for one stage; see tiny_if.py."""

    def build(out_dir: Path, seed: int = 0) -> None:
        from evalkit.generators.tiny_if import BUILDERS as IF_BUILDERS

        IF_BUILDERS[stage](out_dir, seed=seed)

    return build


BUILDERS: dict[str, Callable[[Path], None]] = {
    "tiny-sd": build_tiny_sd,
    "tiny-clip": build_tiny_clip,
    "tiny-clip-hf": build_tiny_clip_hf,
    "tiny-imagen-bert": _cascade_builder("tiny-bert"),
    "tiny-imagen-t5": _cascade_builder("tiny-t5"),
    "tiny-imagen-clip": _cascade_builder("tiny-clip"),
    "tiny-imagen-minilm": _cascade_builder("tiny-minilm"),  # the real pretrained MiniLM (BERT) encoder
    "tiny-if-1": _if_builder("stage_1"),
    "tiny-if-2": _if_builder("stage_2"),
    "tiny-sd-x4-upscaler": _if_builder("stage_3"),
}


def is_builtin(ref: str | None) -> bool:
    return isinstance(ref, str) and ref.startswith(BUILTIN_PREFIX)


def resolve_builtin(ref: str) -> Path:
    """Directory of a built-in tiny model, building it (atomically) on first use."""
    name = ref[len(BUILTIN_PREFIX):]
    if name not in BUILDERS:
        raise UserError(f"unknown built-in model '{ref}'; built-ins are: {', '.join(BUILTIN_PREFIX + n for n in BUILDERS)}")
    root = cache_dir("models")
    final = root / f"{name}-v{_BUILD_VERSION}"
    if final.is_dir():
        return final
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=root))
    try:
        BUILDERS[name](tmp)
        os.replace(tmp, final)
    except OSError:
        if not final.is_dir():  # another process won the race only if final exists now
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final
