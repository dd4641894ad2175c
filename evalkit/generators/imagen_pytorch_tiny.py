"""A tiny imagen-pytorch cascade (16 -> 32 px) trained for a few steps with ImagenTrainer.

    python -m evalkit.generators.imagen_pytorch_tiny OUT [--steps 2] [--seed 0]

writes, offline and in about a minute on a CPU:

    OUT/t5/                  random-weight T5 encoder, 32 wide (character tokenizer): the model's own T5
    OUT/bert/                random-weight BERT encoder of the same width: a second encoder to ablate
    OUT/imagen.pt            ImagenTrainer.save(): both unets trained `steps` steps on random images
    OUT/imagen_config.json   the same Imagen config in the layout `imagen config` writes

It backs the tests and the walk-through in docs/generators.md; the images it makes check the
plumbing, not quality. Captions are encoded by evalkit (as the generator encodes prompts) and
given to the trainer as text_embeds: imagen-pytorch 2.1.0's own `t5_encode_text` calls
`batch_encode_plus`, which transformers 5 removed.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from evalkit.errors import UserError

WIDTH = 32
UNET = {"dim": 16, "dim_mults": [1, 2], "num_resnet_blocks": 1, "layer_attns": [False, True],
        "layer_cross_attns": [False, True], "attn_heads": 2, "attn_dim_head": 8, "memory_efficient": False}
ENCODERS = {
    "t5": {"d_model": WIDTH, "d_kv": 8, "d_ff": 64, "num_layers": 2, "num_heads": 4, "feed_forward_proj": "gated-gelu",
           "pad_token_id": 0, "eos_token_id": 1, "decoder_start_token_id": 0},
    "bert": {"hidden_size": WIDTH, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 37,
             "max_position_embeddings": 128, "pad_token_id": 0},
}


@dataclass(frozen=True)
class TinyImagen:
    root: Path
    checkpoint: Path
    config: Path
    t5: Path
    bert: Path


def imagen_config(t5: Path) -> dict:
    """The Imagen config (ImagenConfig kwargs): two unets, 16 px base and 16 -> 32 super-resolution."""
    return {"unets": [dict(UNET), dict(UNET)], "image_sizes": [16, 32], "timesteps": 1000,
            "text_encoder_name": str(t5), "cond_drop_prob": 0.1}


def _encoders(root: Path) -> dict[str, Path]:
    """OUT/t5 and OUT/bert (folder names that label a sweep's runs), written as cascades write theirs."""
    import os
    import tempfile

    import torch

    from evalkit.generators.cascade.build import _build_encoder  # the random-encoder writer cascades use

    out = {}
    for kind, config in ENCODERS.items():
        with tempfile.TemporaryDirectory(dir=root) as tmp:
            _build_encoder({"type": kind, "max_length": 77, "config": config}, Path(tmp), torch.float32)
            os.replace(Path(tmp) / "text_encoder", root / kind)
        out[kind] = root / kind
    return out


def _captions(n: int, seed: int):
    """(n smoke-suite prompts, n random 32x32 images in [0, 1]) as the training data."""
    import torch

    from evalkit.suites.smoke import Smoke

    texts = [p.text for p in Smoke().prompts()]
    return [texts[(seed + i) % len(texts)] for i in range(n)], torch.rand(n, 3, 32, 32)


def train_tiny(out_dir: str | Path, steps: int = 2, seed: int = 0, batch: int = 4) -> TinyImagen:
    """Build the encoders, train each unet `steps` steps with ImagenTrainer, save with trainer.save()."""
    import torch

    from evalkit.generators.imagen_pytorch import MAX_LENGTH, encode_zero_padded
    from evalkit.generators.imagen_pytorch_checkpoint import import_imagen_pytorch, quiet
    from evalkit.generators.text_encoders import TextEncoderSpec
    from evalkit.hf import quiet_hf_logging

    quiet_hf_logging()
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    encoders = _encoders(root)
    package = import_imagen_pytorch()
    config = imagen_config(encoders["t5"])
    encoder = TextEncoderSpec("t5", str(encoders["t5"]), MAX_LENGTH).load("cpu", torch.float32)
    checkpoint = root / "imagen.pt"
    for unet in (1, 2):  # ImagenTrainer trains one unet per instance: save, reload, train the next
        with quiet():
            trainer = package.ImagenTrainer(package.ImagenConfig(**config).create(), lr=1e-3, use_ema=True)
            if unet > 1:
                trainer.load(str(checkpoint))
            for step in range(steps):
                texts, images = _captions(batch, seed + step)
                pairs = encode_zero_padded(encoder, texts)
                embeds, masks = torch.stack([e for e, _ in pairs]), torch.stack([m for _, m in pairs])
                trainer(images, text_embeds=embeds, text_masks=masks, unet_number=unet, max_batch_size=batch)
                trainer.update(unet_number=unet)
            trainer.save(str(checkpoint))
    config_file = root / "imagen_config.json"
    config_file.write_text(json.dumps({"type": "original", "imagen": config}, indent=2), encoding="utf-8")
    return TinyImagen(root, checkpoint, config_file, encoders["t5"], encoders["bert"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evalkit.generators.imagen_pytorch_tiny",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--steps", type=int, default=2, help="training steps per unet (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        tiny = train_tiny(args.out_dir, steps=args.steps, seed=args.seed)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    print(tiny.checkpoint)
    return 0


if __name__ == "__main__":
    sys.exit(main())
