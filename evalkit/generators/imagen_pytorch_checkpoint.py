"""imagen-pytorch checkpoints: found, read safely, and built with the package's own classes.

Two layouts are read:
- an `ImagenTrainer` checkpoint (`trainer.save(path)`, or the newest `checkpoint.<steps>.pt`
  of a trainer's `checkpoint_path` folder): the Imagen state dict, the EMA unets and, when
  the Imagen was made from an `ImagenConfig` / `ElucidatedImagenConfig`, that config;
- an Imagen state dict (`torch.save(imagen.state_dict())` or a .safetensors file) plus a
  config file in the layout `imagen config` writes: `{"type": "original" | "elucidated",
  "imagen": {...}}`.

Files are read with `torch.load(weights_only=True)` (tensors and plain containers only);
a file that needs full unpickling is refused unless the spec says `trust_checkpoint:
true`, and even then only when it lies inside the path the spec names.

`import imagen_pytorch` itself reads google/t5-v1_1-base's config from the Hugging Face
Hub (a default argument evaluated at import): `import_imagen_pytorch()` turns a failure
there into one line that says how to fix it.
"""

from __future__ import annotations

import contextlib
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.errors import UserError

WHO = "imagen_pytorch"
T5_AT_IMPORT = "google/t5-v1_1-base"  # imagen_pytorch.t5.DEFAULT_T5_NAME
INSTALL = "pip install 'evalkit[imagen-pytorch]'"
KINDS = ("original", "elucidated")
_NUMBERED = re.compile(r"checkpoint\.(\d+)\.pt")


@contextlib.contextmanager
def quiet():
    """imagen-pytorch prints advice and progress with print(); evalkit shows its own."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def import_imagen_pytorch():
    """The imagen_pytorch package, or one line saying why it cannot be imported."""
    try:
        import imagen_pytorch
    except ModuleNotFoundError as err:
        raise UserError(f"{WHO}: needs the imagen-pytorch package ({err.name} is not installed): {INSTALL}") from None
    except OSError as err:  # transformers: "couldn't connect ... and couldn't find them in the cached files"
        from huggingface_hub import constants

        raise UserError(
            f"{WHO}: `import imagen_pytorch` reads {T5_AT_IMPORT}'s config.json from the Hugging Face Hub at import "
            f"time, and it is neither reachable nor in the cache {constants.HF_HUB_CACHE} "
            f"({str(err).strip().splitlines()[0]}); run once online to cache it, or point HF_HOME at a cache that has it"
        ) from None
    return imagen_pytorch


def _inside(path: Path, root: Path) -> Path:
    """`path`, refused when it resolves (through links) to a file outside `root`."""
    real, top = path.resolve(), root.resolve()
    if real != top and not real.is_relative_to(top):
        raise UserError(f"{WHO}: {path} resolves to {real}, outside {root}; copy the checkpoint into {root} instead of linking it")
    return real


def find_checkpoint(ref: str) -> tuple[Path, Path]:
    """(the checkpoint file, the path the spec named): a file, or a trainer checkpoint folder."""
    given = Path(ref).expanduser()
    if given.is_file():
        return given, given
    if not given.is_dir():
        raise UserError(f"{WHO}: checkpoint {given} does not exist; give the file ImagenTrainer.save(path) wrote "
                        "(or an Imagen state dict with config:)")
    numbered = [(int(m.group(1)), p) for p in given.iterdir() if (m := _NUMBERED.fullmatch(p.name))]
    if not numbered:
        raise UserError(f"{WHO}: folder {given} holds no checkpoint.<steps>.pt (an ImagenTrainer checkpoint_path); "
                        "give the .pt file itself")
    path = max(numbered)[1]
    _inside(path, given)
    return path, given


def load_file(path: Path, given: Path, trust: bool) -> Any:
    """The object saved in `path`: tensors and plain containers only, unless `trust`."""
    import pickle

    import torch

    if path.suffix == ".safetensors":
        from safetensors.torch import load_file as load_safetensors

        return load_safetensors(path)
    zipped = zipfile.is_zipfile(path)
    try:
        # mmap: reading the config and shapes of a multi-GB checkpoint costs no copy of it
        return torch.load(path, map_location="cpu", weights_only=True, mmap=zipped)
    except pickle.UnpicklingError as err:
        if not trust:
            raise UserError(
                f"{WHO}: {path} holds Python objects that torch.load(weights_only=True) refuses "
                f"({str(err).strip().splitlines()[0][:160]}); if you made this file, set trust_checkpoint: true "
                "(full unpickling runs code stored in it)"
            ) from None
    except (RuntimeError, EOFError, OSError, ValueError) as err:
        raise UserError(f"{WHO}: {path} is not a torch checkpoint ({str(err).strip().splitlines()[0][:160]})") from None
    _inside(path, given)
    return torch.load(path, map_location="cpu", weights_only=False)


def read_config(path: str) -> tuple[str, dict]:
    """(type, Imagen config kwargs) of a config file in `imagen config`'s layout (JSON or YAML)."""
    from evalkit.yaml_io import read_yaml

    file = Path(path).expanduser()
    data = read_yaml(file, f"{WHO} config", "as `imagen config` writes: {type: original, imagen: {...}}")
    if not isinstance(data, dict) or not isinstance(data.get("imagen"), dict):
        raise UserError(f"{WHO}: {file} is not an imagen-pytorch config: expected {{type: original|elucidated, imagen: {{...}}}}")
    return _kind(data.get("type", "original"), str(file)), dict(data["imagen"])


def _kind(value: Any, where: str) -> str:
    if value not in KINDS:
        raise UserError(f"{WHO}: {where}: Imagen type {value!r} is not one of {', '.join(KINDS)}")
    return value


@dataclass(frozen=True)
class ImagenCheckpoint:
    """What a checkpoint holds, read without building the model."""

    path: Path
    kind: str  # original (Imagen) | elucidated (ElucidatedImagen)
    params: dict  # ImagenConfig / ElucidatedImagenConfig kwargs
    state: dict  # the Imagen state dict to load, EMA unets substituted where chosen
    ema: tuple[bool, ...]  # per unet: EMA weights used
    version: str | None  # imagen-pytorch version that saved it (trainer checkpoints)

    @property
    def unet_count(self) -> int:
        return len(self.params.get("unets", ()))

    @property
    def image_sizes(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self.params.get("image_sizes", ()))

    @property
    def text_width(self) -> int | None:
        """The text-embedding width the unets were trained on (their text projection's input)."""
        for i in range(self.unet_count):
            weight = self.state.get(f"unets.{i}.text_to_cond.weight")
            if weight is not None:
                return int(weight.shape[1])
        return None

    @property
    def text_encoder_name(self) -> str:
        return str(self.params.get("text_encoder_name", T5_AT_IMPORT))


def _ema_state(state: dict, saved: dict, n: int, ema: bool | None) -> tuple[dict, tuple[bool, ...]]:
    """The state dict with EMA unets put in: None = each unet whose EMA was updated, True = all."""
    used = []
    state = dict(state)
    for i in range(n):
        prefix = f"{i}.ema_model."
        present = bool(saved) and bool(saved.get(f"{i}.initted", False)) and any(k.startswith(prefix) for k in saved)
        if ema and not present:
            raise UserError(f"{WHO}: ema: true, but the checkpoint has no updated EMA weights for unet {i + 1}; "
                            "set ema: false (or leave it out) to use the trained weights")
        use = present if ema is None else bool(ema)
        if use:
            state.update({f"unets.{i}.{k[len(prefix):]}": v for k, v in saved.items() if k.startswith(prefix)})
        used.append(use)
    return state, tuple(used)


def read_checkpoint(ref: str, config: str | None, ema: bool | None, trust: bool) -> ImagenCheckpoint:
    """Find, load and check the layout of an imagen-pytorch checkpoint (no model is built)."""
    path, given = find_checkpoint(ref)
    saved = load_file(path, given, trust)
    if not isinstance(saved, dict):
        raise UserError(f"{WHO}: {path} holds a {type(saved).__name__}, not an ImagenTrainer checkpoint or a state dict")
    trainer = isinstance(saved.get("model"), dict)
    state = saved["model"] if trainer else saved
    if config is not None:
        kind, params = read_config(config)
    elif trainer and isinstance(saved.get("imagen_params"), dict):
        kind, params = _kind(saved.get("imagen_type"), str(path)), dict(saved["imagen_params"])
    else:
        raise UserError(f"{WHO}: {path} records no Imagen config (the Imagen was not made from an ImagenConfig); "
                        "pass config: a JSON file as `imagen config` writes it")
    if not isinstance(params.get("unets"), (list, tuple)) or not params["unets"]:
        raise UserError(f"{WHO}: the Imagen config of {path} lists no unets")
    n = len(params["unets"])
    state, used = _ema_state(state, saved.get("ema") if trainer else None, n, ema)
    version = str(saved["version"]) if trainer and "version" in saved else None
    return ImagenCheckpoint(path, kind, params, state, used, version)


def check_layout(ckpt: ImagenCheckpoint, run_unets: int) -> None:
    """Refuse what evalkit cannot evaluate, from the config alone."""
    p = ckpt.params
    if p.get("video"):
        raise UserError(f"{WHO}: {ckpt.path} is a video model (Unet3D); evalkit evaluates text-to-image models")
    if p.get("condition_on_text") is False or ckpt.text_width is None:
        raise UserError(f"{WHO}: {ckpt.path} is not conditioned on text; evalkit evaluates models against prompts")
    if len(ckpt.image_sizes) != ckpt.unet_count:
        raise UserError(f"{WHO}: the config of {ckpt.path} has {ckpt.unet_count} unets but image_sizes {list(ckpt.image_sizes)}")
    for i, unet in enumerate(p["unets"][:run_unets]):
        if not isinstance(unet, dict) or unet.get("is_null"):
            raise UserError(f"{WHO}: unet {i + 1} of {ckpt.path} is a NullUnet placeholder; "
                            "merge the separately trained unet into the checkpoint, or stop before it with stop_at_unet_number")
        if unet.get("cond_images_channels"):
            raise UserError(f"{WHO}: unet {i + 1} is conditioned on images (cond_images_channels); prompt suites carry no images")


def validated_config(ckpt: ImagenCheckpoint):
    """The package's own ImagenConfig / ElucidatedImagenConfig for the checkpoint (validated)."""
    from pydantic import ValidationError

    package = import_imagen_pytorch()
    cls = package.ElucidatedImagenConfig if ckpt.kind == "elucidated" else package.ImagenConfig
    # text_embed_dim from the weights: building never looks up the text encoder's config
    try:
        return cls(**{**ckpt.params, "text_embed_dim": ckpt.text_width})
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UserError(f"{WHO}: the Imagen config of {ckpt.path} is invalid: {where}: {first['msg']}") from None


def build_model(ckpt: ImagenCheckpoint):
    """The Imagen / ElucidatedImagen with the checkpoint's weights, in eval mode on the CPU."""
    config = validated_config(ckpt)
    with quiet():  # the package prints advice about unet sizes
        model = config.create()
    try:
        model.load_state_dict(ckpt.state, strict=True)
    except RuntimeError as err:
        raise UserError(f"{WHO}: the weights of {ckpt.path} do not fit its config: "
                        f"{str(err).strip().splitlines()[-1].strip()[:200]}") from None
    return model.eval()
