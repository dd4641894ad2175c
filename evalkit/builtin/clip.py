"""builtin:tiny-clip (open_clip) and builtin:tiny-clip-hf (transformers): random-weight CLIPs."""

from __future__ import annotations

import json
from pathlib import Path

from evalkit.builtin.tokenizers import byte_level_vocab
from evalkit.hf import quiet_hf_logging

TINY_CLIP_CONFIG = {
    "embed_dim": 64,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "head_width": 32, "patch_size": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


def random_open_clip(config: dict, seed: int = 0):
    """An open_clip CLIP of architecture `config` (an open_clip model config) with random weights."""
    import torch
    from open_clip.model import CLIP

    torch.manual_seed(seed)
    return CLIP(**config).eval()


def build_tiny_clip(out_dir: Path, seed: int = 0, config: dict = TINY_CLIP_CONFIG) -> None:
    """An open_clip folder (open_clip_config.json + weights), loaded as `local-dir:` like a real one."""
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "open_clip_config.json").write_text(json.dumps({"model_cfg": config, "preprocess_cfg": {}}, indent=2))
    model = random_open_clip(config, seed)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, out_dir / "open_clip_model.safetensors")


def build_tiny_clip_hf(out_dir: Path, seed: int = 0, logit_scale: float = 2.6592) -> None:
    """A transformers CLIPModel + CLIPProcessor folder (save_pretrained), random weights;
    `logit_scale` is the log of the temperature (CLIP's initial value by default)."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer

    vocab, merges = byte_level_vocab()
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
        projection_dim=32, logit_scale_init_value=logit_scale,
    )
    model = CLIPModel(config)
    tokenizer = CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77)
    images = CLIPImageProcessor(size={"shortest_edge": 64}, crop_size={"height": 64, "width": 64})
    quiet_hf_logging()
    model.save_pretrained(out_dir)
    CLIPProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(out_dir)
