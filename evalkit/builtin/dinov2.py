"""builtin:tiny-dinov2: a random-weight transformers Dinov2Model, saved like a hub checkpoint."""

from __future__ import annotations

from pathlib import Path

from evalkit.hf import quiet_hf_logging


def build_tiny_dinov2(out_dir: Path, seed: int = 0) -> None:
    """A 2-layer, 32-wide Dinov2Model. Its position embeddings are for 112 px (8x8 patches of
    14), so the 224 px input is interpolated, as the hub models' (518 px) are."""
    import torch
    from transformers import Dinov2Config, Dinov2Model

    torch.manual_seed(seed)
    config = Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, mlp_ratio=2,
                          image_size=112, patch_size=14)
    quiet_hf_logging()
    Dinov2Model(config).eval().save_pretrained(out_dir)
