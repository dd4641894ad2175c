"""Peers' code paths that the benchmarks time and the parity tests check against, in one
home, free of import-time side effects (tests import it: tests/metrics/test_clip_parity.py,
tests/metrics/test_preference_scores.py)."""

from __future__ import annotations

import torch


def pooled(output):
    """transformers 5 wraps get_*_features' result in a ModelOutput; older versions return the tensor."""
    return output if torch.is_tensor(output) else output.pooler_output


class TensorFeatures(torch.nn.Module):
    """torchmetrics 1.9 predates transformers 5, whose get_*_features return a ModelOutput:
    hand torchmetrics the projected features as the tensors it expects, nothing else changed."""

    def __init__(self, model):
        super().__init__()
        self.model, self.config = model, model.config

    def get_image_features(self, *args, **kwargs):
        return self.model.get_image_features(*args, **kwargs).pooler_output

    def get_text_features(self, *args, **kwargs):
        return self.model.get_text_features(*args, **kwargs).pooler_output


def pickscore_model_card(processor, model, image, prompt: str) -> float:
    """PickScore of one (image, prompt) as the model card's calc_probs computes it."""
    image_inputs = processor(images=[image], padding=True, truncation=True, max_length=77, return_tensors="pt")
    text_inputs = processor(text=prompt, padding=True, truncation=True, max_length=77, return_tensors="pt")
    with torch.no_grad():
        image_embs = pooled(model.get_image_features(**image_inputs))
        image_embs = image_embs / torch.norm(image_embs, dim=-1, keepdim=True)
        text_embs = pooled(model.get_text_features(**text_inputs))
        text_embs = text_embs / torch.norm(text_embs, dim=-1, keepdim=True)
        return float(model.logit_scale.exp() * (text_embs @ image_embs.T)[0][0])
