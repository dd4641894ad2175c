"""CLIP backends: image and text embeddings, L2-normalised.

open_clip: `model` is an architecture name with `pretrained` a tag or checkpoint path
(`ViT-B-32` + `openai`), or `local-dir:PATH` / `hf-hub:ORG/NAME`; `builtin:tiny-clip`
is a random-weight tiny model for offline tests (its scores mean nothing).
"""

from __future__ import annotations

from evalkit.errors import UserError
from evalkit.fingerprint import dir_fingerprint
from evalkit.generators.tiny import is_builtin, resolve_builtin


class OpenClipModel:
    def __init__(self, model: str, pretrained: str | None = None, device: str = "cpu"):
        import open_clip

        self.random_weights = is_builtin(model)
        name = f"local-dir:{resolve_builtin(model)}" if self.random_weights else model
        if name.startswith(("local-dir:", "hf-hub:")):
            pretrained = None  # the folder or hub repo carries its own weights
        self.model_ref, self.pretrained, self.device = model, pretrained, device
        try:
            self.model, _, self.preprocess = open_clip.create_model_and_transforms(name, pretrained=pretrained, device=device)
        except (RuntimeError, FileNotFoundError, ValueError, OSError) as err:
            raise UserError(
                f"could not load open_clip model '{model}' (pretrained={pretrained!r}): {str(err).splitlines()[0]} "
                "(offline? pass model: local-dir:PATH with open_clip_config.json and weights)"
            ) from None
        self.model.eval()
        self.tokenizer = open_clip.get_tokenizer(name)
        self.context_length = self.tokenizer.context_length
        self._local_dir = name[len("local-dir:"):] if name.startswith("local-dir:") else None

    def count_truncated(self, texts: list[str]) -> int:
        """Texts longer than the context (with start/end tokens): truncated, end token kept."""
        encode = getattr(self.tokenizer, "encode", None)
        if encode is None:
            return 0
        return sum(len(encode(t)) + 2 > self.context_length for t in texts)

    def image_embeddings(self, images):
        import torch

        batch = torch.stack([self.preprocess(img) for img in images]).to(self.device)
        with torch.inference_mode():
            emb = self.model.encode_image(batch).float()
        return torch.nn.functional.normalize(emb, dim=-1).cpu().numpy()

    def text_embeddings(self, texts: list[str]):
        import torch

        # open_clip's tokenizer truncates to the context length and puts the end-of-text
        # token last, so the pooled (EOT) position is always present.
        tokens = self.tokenizer(texts).to(self.device)
        with torch.inference_mode():
            emb = self.model.encode_text(tokens).float()
        return torch.nn.functional.normalize(emb, dim=-1).cpu().numpy()

    def provenance(self) -> dict:
        info = {"clip_backend": "open_clip", "clip_model": self.model_ref, "clip_pretrained": self.pretrained}
        if self._local_dir:
            info["clip_dir_sha"] = dir_fingerprint(self._local_dir)
        if self.random_weights:
            info["clip_weights"] = "RANDOM (built-in tiny model): the score is a pipeline check, not a quality measure"
        return info


BACKENDS = {"open_clip": OpenClipModel}


def load_clip(backend: str, model: str, pretrained: str | None, device: str):
    if backend not in BACKENDS:
        raise UserError(f"unknown CLIP backend '{backend}': use one of {', '.join(BACKENDS)}")
    return BACKENDS[backend](model, pretrained, device)
