"""The on-disk layout of an Imagen-style cascade checkpoint, and its checks.

    <root>/cascade.json          {"format": "evalkit.imagen_cascade", "version": 1,
                                  "text_encoder": {"type": "t5", "path": "text_encoder", "max_length": 128},
                                  "stages": [{"path": "stage_1", "resolution": 64}, ...]}
    <root>/text_encoder/         transformers model + tokenizer (save_pretrained); `path` may
                                 instead be a hub id such as google/t5-v1_1-xxl
    <root>/stage_N/unet/         diffusers UNet2DConditionModel (save_pretrained)
    <root>/stage_N/scheduler/    the noise schedule it was trained with (scheduler_config.json)

Stage 1 maps noise to a small image; each later stage is a super-resolution UNet whose
input is the noisy image plus the upsampled, noise-augmented output of the stage before
(6 channels), conditioned on the augmentation level through its class embedding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.errors import UserError
from evalkit.generators.model_ref import looks_like_path
from evalkit.generators.text_encoders import check_kind, unet_text_width

CONFIG_NAME = "cascade.json"
FORMAT = "evalkit.imagen_cascade"
VERSION = 1
WHO = "imagen_cascade"


@dataclass(frozen=True)
class Stage:
    name: str
    path: Path
    resolution: int


@dataclass(frozen=True)
class Cascade:
    root: Path
    encoder_kind: str
    encoder_source: str  # local folder (absolute) or hub id
    encoder_is_local: bool
    max_length: int
    stages: tuple[Stage, ...]


def _bad(root: Path, problem: str) -> UserError:
    return UserError(f"{WHO}: {root / CONFIG_NAME} {problem}")


def read_cascade(root: str | Path) -> Cascade:
    """Read and check cascade.json and that every folder it names exists."""
    root = Path(root).expanduser()
    if not (root / CONFIG_NAME).is_file():
        problem = "does not exist" if not root.exists() else f"has no {CONFIG_NAME}"
        raise UserError(
            f"{WHO}: checkpoint folder {root} {problem}; give a cascade folder "
            f"(build a random-weight one with `python -m evalkit.generators.cascade.build {root} --preset tiny-t5`)"
        )
    try:
        doc: dict[str, Any] = json.loads((root / CONFIG_NAME).read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise _bad(root, f"is not valid JSON ({err.msg} at line {err.lineno})") from None
    if doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise _bad(root, f"is not a version-{VERSION} {FORMAT} config (format/version fields)")
    enc, stages = doc.get("text_encoder"), doc.get("stages")
    if not isinstance(enc, dict) or not {"type", "path", "max_length"} <= set(enc):
        raise _bad(root, "needs text_encoder: {type, path, max_length}")
    if not isinstance(stages, list) or not stages:
        raise _bad(root, "needs a non-empty stages list")
    check_kind(enc["type"], WHO)
    local = root / enc["path"]
    if local.is_dir():
        source, is_local = str(local.resolve()), True
    elif looks_like_path(enc["path"]):
        raise UserError(f"{WHO}: text encoder folder {local} named in {root / CONFIG_NAME} is missing")
    else:
        source, is_local = enc["path"], False
    out = []
    for i, stage in enumerate(stages):
        if not isinstance(stage, dict) or not {"path", "resolution"} <= set(stage):
            raise _bad(root, f"stages[{i}] needs path and resolution")
        path = root / stage["path"]
        for part in ("unet/config.json", "scheduler/scheduler_config.json"):
            if not (path / part).is_file():
                raise UserError(f"{WHO}: stage folder {path} has no {part} (missing or incomplete stage {i + 1})")
        if out and stage["resolution"] <= out[-1].resolution:
            raise _bad(root, f"stages[{i}] resolution {stage['resolution']} is not above the previous stage's")
        out.append(Stage(f"stage_{i + 1}", path, int(stage["resolution"])))
    return Cascade(root, enc["type"], source, is_local, int(enc["max_length"]), tuple(out))


def write_cascade_config(root: Path, encoder: dict[str, Any], stages: list[dict[str, Any]]) -> None:
    doc = {"format": FORMAT, "version": VERSION, "text_encoder": encoder, "stages": stages}
    (root / CONFIG_NAME).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def check_unet(stage: Stage, unet_config: dict[str, Any], encoder_kind: str, encoder_width: int) -> None:
    """The stage's UNet must take this encoder's embeddings and the right number of channels."""
    expects, which = unet_text_width(unet_config)
    if expects != encoder_width:
        raise UserError(
            f"{WHO}: {stage.name}'s UNet takes text embeddings of size {expects} ({which}) but the "
            f"{encoder_kind} encoder produces {encoder_width}; use the encoder the cascade was built with, "
            f"or rebuild the stage with encoder_hid_dim={encoder_width}"
        )
    want = 3 if stage.name == "stage_1" else 6
    if unet_config.get("in_channels") != want:
        role = "a base stage" if want == 3 else "a super-resolution stage (noisy image + upsampled low-res image)"
        raise UserError(f"{WHO}: {stage.name}'s UNet has in_channels={unet_config.get('in_channels')}; {role} needs {want}")
