"""Random-weight stand-ins for the learned preference models, saved as the real ones are:

- builtin:tiny-pickscore: a transformers CLIPModel + CLIPProcessor folder whose logit scale
  is PickScore_v1's (exp(logit_scale) = 100), loaded with from_pretrained like the hub repos;
- builtin:tiny-hpsv2: an open_clip architecture config plus a checkpoint file in the HPS
  v2.1 release's layout (`{"state_dict": ...}` in HPS_v2.1_compressed.pt), loaded with
  open_clip.create_model_and_transforms(architecture, pretrained=checkpoint) like the real one.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from evalkit.builtin.clip import TINY_CLIP_CONFIG, build_tiny_clip_hf, random_open_clip

HPS_CHECKPOINT = "HPS_v2.1_compressed.pt"
HPS_ARCHITECTURE = "evalkit-tiny-hpsv2"  # the config file's stem is open_clip's model name


def build_tiny_pickscore(out_dir: Path) -> None:
    build_tiny_clip_hf(out_dir, seed=1, logit_scale=math.log(100.0))


def build_tiny_hpsv2(out_dir: Path, seed: int = 2) -> None:
    import torch

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{HPS_ARCHITECTURE}.json").write_text(json.dumps(TINY_CLIP_CONFIG, indent=2))
    state = {k: v.contiguous() for k, v in random_open_clip(TINY_CLIP_CONFIG, seed).state_dict().items()}
    torch.save({"epoch": 1, "state_dict": state}, out_dir / HPS_CHECKPOINT)
