"""`builtin:<name>`: the one resolver for evalkit's built-in models and data.

Random-weight tiny models (built from configs, saved with `save_pretrained` or as plain
checkpoints, and loaded back through the very code path a user's real checkpoint takes)
and the procedural reference images, each built into the cache on first use by
`build_into_cache`, atomically, so concurrent processes and crashes never see half a
build. Builders are named by "module:function" and imported only when needed.
"""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from evalkit.cache import cache_dir
from evalkit.errors import UserError
from evalkit.store import DIR_MODE

PREFIX = "builtin:"


@dataclass(frozen=True)
class Builtin:
    builder: str  # "module:function", called as function(out_dir: Path)
    what: str  # the kind of folder it makes (how to load it)
    description: str
    version: str = "1"  # bump when the builder changes, so old builds are not reused
    subdir: str = "models"


_M = "evalkit.builtin."
BUILTINS: dict[str, Builtin] = {
    "tiny-sd": Builtin(_M + "sd:build_tiny_sd", "diffusers pipeline", "Stable-Diffusion-architecture pipeline, 64 px"),
    "tiny-clip": Builtin(_M + "clip:build_tiny_clip", "open_clip folder", "CLIP for open_clip (local-dir)"),
    "tiny-clip-hf": Builtin(_M + "clip:build_tiny_clip_hf", "transformers CLIPModel", "CLIP for transformers"),
    "tiny-imagen-bert": Builtin(_M + "cascades:build_tiny_bert", "imagen_cascade folder", "16->32->64 cascade, BERT"),
    "tiny-imagen-t5": Builtin(_M + "cascades:build_tiny_t5", "imagen_cascade folder", "16->32->64 cascade, T5"),
    "tiny-imagen-clip": Builtin(_M + "cascades:build_tiny_clip", "imagen_cascade folder", "16->32->64 cascade, CLIP"),
    "tiny-imagen-minilm": Builtin(_M + "cascades:build_tiny_minilm", "imagen_cascade folder",
                                  "16->32->64 cascade with the real pretrained MiniLM (BERT) encoder"),
    "tiny-if-1": Builtin(_M + "deepfloyd:build_stage_1", "diffusers IFPipeline", "DeepFloyd IF stage I, 16 px"),
    "tiny-if-2": Builtin(_M + "deepfloyd:build_stage_2", "diffusers IFSuperResolutionPipeline", "IF stage II, 32 px"),
    "tiny-sd-x4-upscaler": Builtin(_M + "deepfloyd:build_stage_3", "diffusers StableDiffusionUpscalePipeline",
                                   "SD x4 upscaler, 128 px"),
    "tiny-dinov2": Builtin(_M + "dinov2:build_tiny_dinov2", "transformers Dinov2Model", "DINOv2 ViT, 2 layers, 32 wide"),
    "tiny-pickscore": Builtin(_M + "preference:build_tiny_pickscore", "transformers CLIPModel + CLIPProcessor",
                              "PickScore-shaped CLIP (logit scale 100)"),
    "tiny-hpsv2": Builtin(_M + "preference:build_tiny_hpsv2", "open_clip config + HPS v2.1-layout checkpoint",
                          "HPS v2.1-shaped open_clip CLIP"),
    "tiny-vqa": Builtin(_M + "vqa:build_tiny_vqa", "transformers image-text-to-text (LLaVA) + processor",
                        "LLaVA-1.5-shaped VQA model with a chat template"),
    "procedural": Builtin(_M + "procedural:build", "image folder",
                          "48 seeded procedural 64 px images: a stand-in FID reference", subdir="reference"),
}


def is_builtin(ref: object) -> bool:
    return isinstance(ref, str) and ref.startswith(PREFIX)


def _lookup(ref: str) -> tuple[str, Builtin]:
    name = ref[len(PREFIX):]
    if name not in BUILTINS:
        raise UserError(f"unknown built-in '{ref}'; built-ins are: {', '.join(PREFIX + n for n in BUILTINS)}")
    return name, BUILTINS[name]


def check(ref: str) -> None:
    """Raise the one-line error for an unknown built-in, building nothing."""
    _lookup(ref)


def folder_name(name: str, item: Builtin) -> str:
    # The procedural folder keeps the name it always had, so existing caches stay valid.
    return "procedural-48x64" if name == "procedural" else f"{name}-v{item.version}"


def resolve(ref: str) -> Path:
    """The folder of built-in `ref` (`builtin:<name>`), built into the cache on first use."""
    name, item = _lookup(ref)
    module, _, function = item.builder.partition(":")
    return build_into_cache(item.subdir, folder_name(name, item), lambda out: getattr(importlib.import_module(module), function)(out))


def build_into_cache(subdir: str, name: str, build: Callable[[Path], None]) -> Path:
    """`<cache>/<subdir>/<name>/`, made by `build(tmp)` into a temporary folder and renamed into
    place, so a crash or a concurrent build never leaves or uses half a folder."""
    root = cache_dir(subdir)
    final = root / name
    if final.is_dir():
        return final
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=root))
    try:
        build(tmp)
        os.chmod(tmp, DIR_MODE)
        os.replace(tmp, final)
    except OSError:
        if not final.is_dir():  # another process won the race only if final exists now
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final
