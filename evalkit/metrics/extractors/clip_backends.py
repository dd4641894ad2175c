"""The CLIP backends: how to load a CLIP model and run its towers (see clip.py).

- `open_clip`: `model` is an architecture name with `pretrained` a tag or checkpoint
  path (`ViT-B-32` + `openai`), or `local-dir:PATH` / `hf-hub:ORG/NAME`.
- `transformers`: `model` is a hub id or a local directory holding a `CLIPModel`, and
  `processor` the `CLIPProcessor`'s (the model's own unless given: PickScore_v1 uses
  laion/CLIP-ViT-H-14-laion2B-s32B-b79K's).
- `hpsv2`: HPS v2.x (Wu et al. 2023): an open_clip architecture (`ViT-H-14`) loaded with
  an HPS checkpoint file (`pretrained`: a path, or `hf-file:xswu/HPSv2/HPS_v2.1_compressed.pt`,
  the default), images prepared as HPS's `preprocess_val` does (hpsv2_transform).
- `builtin:tiny-clip` (open_clip), `builtin:tiny-clip-hf` / `builtin:tiny-pickscore`
  (transformers) and `builtin:tiny-hpsv2` are random-weight tiny models for offline
  tests: their scores mean nothing, and the provenance says so.

All truncate prompts longer than the context to the context length while keeping the
end-of-text token (the pooled position); torchmetrics #2883 drops it.
"""

from __future__ import annotations

import functools
import os

from evalkit import builtin
from evalkit.errors import UserError
from evalkit.fingerprint import dir_fingerprint

RANDOM_WEIGHTS_NOTE = "RANDOM (built-in tiny model): the score is a pipeline check, not a quality measure"


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


class OpenClipBackend:
    """open_clip: an architecture + pretrained tag, local-dir:PATH or hf-hub:ORG/NAME."""

    backend = "open_clip"
    offline_hint = "pass model: local-dir:PATH holding open_clip_config.json and weights"

    def __init__(self, model: str, pretrained: str | None = None, device: str = "cpu", processor: str | None = None):
        import open_clip

        self.random_weights = builtin.is_builtin(model)
        self.model_ref, self.device = model, device
        name, self.pretrained, self._local_dir = self._weights(model, pretrained)
        try:
            self.model, _, self.preprocess = open_clip.create_model_and_transforms(name, pretrained=self.pretrained,
                                                                                 device=device)
            self.tokenizer = open_clip.get_tokenizer(name)
        except (RuntimeError, FileNotFoundError, ValueError, OSError) as err:
            raise UserError(
                f"could not load {self.backend} model '{model}' (pretrained={self.pretrained!r}): {_first_line(err)} "
                f"(offline? {self.offline_hint})"
            ) from None
        self.model.eval()
        self.context_length = self.tokenizer.context_length
        self.dim = int(self.model.visual.output_dim)

    def _weights(self, model: str, pretrained: str | None) -> tuple[str, str | None, str | None]:
        """(open_clip model name, pretrained, local folder or None)."""
        name = f"local-dir:{builtin.resolve(model)}" if self.random_weights else model
        if name.startswith(("local-dir:", "hf-hub:")):  # the folder or hub repo carries its own weights
            return name, None, name[len("local-dir:"):] if name.startswith("local-dir:") else None
        return name, pretrained, None

    def token_count(self, text: str) -> int:
        encode = getattr(self.tokenizer, "encode", None)
        return len(encode(text)) + 2 if encode else 0

    pads_to_longest = False  # open_clip's tokenizer always pads to the context length

    def pixels(self, image):
        """One PIL image -> its [3, H, W] input tensor (the model's own transform)."""
        return self.preprocess(image)

    def encode_pixels(self, pixels: list):
        import torch

        return self.model.encode_image(torch.stack(pixels).to(self.device))

    def encode_texts(self, texts):
        # open_clip's tokenizer truncates and then writes the end-of-text token last.
        return self.model.encode_text(self.tokenizer(texts).to(self.device))

    def provenance(self) -> dict:
        info = {"clip_backend": self.backend, "clip_model": self.model_ref, "clip_pretrained": self.pretrained}
        if self._local_dir:
            info["clip_dir_sha"] = dir_fingerprint(self._local_dir)
        if self.random_weights:
            info["clip_weights"] = RANDOM_WEIGHTS_NOTE
        return info


def _pooled(output):
    """transformers < 5 returns the projected features; 5.x wraps them in a ModelOutput."""
    return output if hasattr(output, "norm") else output.pooler_output


class TransformersClipBackend:
    """transformers: a hub id or a save_pretrained folder with a CLIPModel and its CLIPProcessor."""

    backend = "transformers"

    def __init__(self, model: str, pretrained: str | None = None, device: str = "cpu", processor: str | None = None):
        from transformers import CLIPModel, CLIPProcessor

        from evalkit.hf import quiet_hf_logging

        quiet_hf_logging()
        self.random_weights = builtin.is_builtin(model)
        source = _local_or_hub(model)
        self.model_ref, self.pretrained, self.device, self._source = model, pretrained, device, source
        self.processor_ref = processor
        try:
            self.model = CLIPModel.from_pretrained(source, revision=pretrained).to(device).eval()
            self.processor = (CLIPProcessor.from_pretrained(source, revision=pretrained) if processor is None
                              else CLIPProcessor.from_pretrained(_local_or_hub(processor)))
        except (OSError, ValueError) as err:
            raise UserError(
                f"could not load transformers CLIPModel '{model}': {_first_line(err)} "
                "(offline? pass a local directory made by save_pretrained)"
            ) from None
        self.tokenizer = self.processor.tokenizer
        self.context_length = self.model.config.text_config.max_position_embeddings
        self.dim = int(self.model.config.projection_dim)

    def token_count(self, text: str) -> int:
        return len(self.tokenizer(text, truncation=False)["input_ids"])

    pads_to_longest = True  # a batch of texts is padded to its longest: sort texts by length first

    def pixels(self, image):
        """One PIL image -> its [3, H, W] input array (the checkpoint's CLIPProcessor)."""
        return self.processor(images=[image], return_tensors="np")["pixel_values"][0]

    def encode_pixels(self, pixels: list):
        import numpy as np
        import torch

        return _pooled(self.model.get_image_features(pixel_values=torch.from_numpy(np.stack(pixels)).to(self.device)))

    def encode_texts(self, texts):
        # truncation=True lets the tokenizer cut the content and still append the end token.
        tokens = self.tokenizer(texts, padding=True, truncation=True, max_length=self.context_length, return_tensors="pt")
        return _pooled(self.model.get_text_features(
            input_ids=tokens["input_ids"].to(self.device), attention_mask=tokens["attention_mask"].to(self.device)
        ))

    def provenance(self) -> dict:
        info = {"clip_backend": self.backend, "clip_model": self.model_ref, "clip_revision": self.pretrained}
        if self.processor_ref is not None:
            info["clip_processor"] = self.processor_ref
        if os.path.isdir(self._source):
            info["clip_dir_sha"] = dir_fingerprint(self._source)
        if self.random_weights:
            info["clip_weights"] = RANDOM_WEIGHTS_NOTE
        return info


def _local_or_hub(ref: str) -> str:
    """A built-in's folder, else the hub id or folder as given."""
    return str(builtin.resolve(ref)) if builtin.is_builtin(ref) else ref


def hpsv2_transform(image, size: int, mean, std):
    """HPS v2's preprocess_val (its open_clip fork, light_augmentation=True): RGB, ToTensor,
    resize so the longer side is `size` (bicubic, on the float tensor), zero-pad to a
    centred square, normalise. Square images are only resized."""
    import torchvision.transforms.functional as F

    x = F.to_tensor(image.convert("RGB"))
    height, width = x.shape[1:]
    scale = size / float(max(height, width))
    if scale != 1.0:
        new_size = [round(height * scale), round(width * scale)]
        x = F.resize(x, new_size, F.InterpolationMode.BICUBIC)
        pad_h, pad_w = size - new_size[0], size - new_size[1]
        x = F.pad(x, [pad_w // 2, pad_h // 2, pad_w - pad_w // 2, pad_h - pad_h // 2], fill=0)
    return F.normalize(x, mean, std)


class HPSv2Backend(OpenClipBackend):
    """HPS v2.x: an open_clip architecture with an HPS checkpoint, HPS's image preprocessing."""

    backend = "hpsv2"
    offline_hint = "pass pretrained: the path of HPS_v2.1_compressed.pt, or model: builtin:tiny-hpsv2"

    def __init__(self, model: str, pretrained: str | None = None, device: str = "cpu", processor: str | None = None):
        super().__init__(model, pretrained, device)
        from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD

        # record the checkpoint as named (not the download's cache path, which differs by machine)
        self._checkpoint, self.pretrained = self.pretrained, None if self.random_weights else pretrained or HPS_CHECKPOINT_DEFAULT

        size = self.model.visual.image_size
        size = size[0] if isinstance(size, (tuple, list)) else size
        mean = getattr(self.model.visual, "image_mean", None) or OPENAI_DATASET_MEAN
        std = getattr(self.model.visual, "image_std", None) or OPENAI_DATASET_STD
        self.preprocess = functools.partial(hpsv2_transform, size=int(size), mean=mean, std=std)

    def _weights(self, model: str, pretrained: str | None) -> tuple[str, str | None, str | None]:
        import open_clip

        if self.random_weights:  # an architecture config (its stem is the name) beside the checkpoint
            from evalkit.builtin.preference import HPS_ARCHITECTURE, HPS_CHECKPOINT

            folder = builtin.resolve(model)
            open_clip.add_model_config(folder / f"{HPS_ARCHITECTURE}.json")
            return HPS_ARCHITECTURE, str(folder / HPS_CHECKPOINT), str(folder)
        return model, hub_file(pretrained or HPS_CHECKPOINT_DEFAULT), None

    def provenance(self) -> dict:
        from evalkit.fingerprint import file_hashes

        return {**super().provenance(), "clip_weights_sha256": file_hashes([self._checkpoint])[0]}


HPS_CHECKPOINT_DEFAULT = "hf-file:xswu/HPSv2/HPS_v2.1_compressed.pt"


def hub_file(ref: str) -> str:
    """`hf-file:ORG/REPO/FILE` downloaded (or found in the Hugging Face cache); a path as given."""
    if not ref.startswith("hf-file:"):
        return ref
    parts = ref[len("hf-file:"):].split("/", 2)
    if len(parts) != 3 or not all(parts):
        raise UserError(f"'{ref}' is not of the form hf-file:ORG/REPO/FILE")
    from huggingface_hub import hf_hub_download

    try:
        return hf_hub_download("/".join(parts[:2]), parts[2])
    except (OSError, ValueError) as err:  # offline (LocalEntryNotFoundError), unknown repo or file
        raise UserError(f"could not download {ref}: {_first_line(err)} (offline? pass the file's local path)") from None


BACKENDS = {"open_clip": OpenClipBackend, "transformers": TransformersClipBackend, "hpsv2": HPSv2Backend}
