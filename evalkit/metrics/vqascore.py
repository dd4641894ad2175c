"""VQAScore (Lin et al. 2024): the probability that an image-text-to-text model answers
"Yes" to 'Does this figure show "{prompt}"? Please answer yes or no.' about the image.

As in t2v_metrics (the reference implementation, whose CLIP-FlanT5 scorer is
exp(-cross-entropy of the answer tokens)): the answer is scored by teacher forcing, the
score is the geometric mean of the answer tokens' probabilities (P("Yes") itself when
"Yes" is one token). Any transformers model that loads with AutoModelForImageTextToText
and whose processor has a chat template works: the question is the user's turn (image
first), then the generation prompt, then the answer tokens
(`tokenizer(answer, add_special_tokens=False)`). No version pins: t2v_metrics pins
torch 2.5 / transformers 4.49; this needs only what evalkit already uses.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from evalkit.errors import UserError
from evalkit.metrics.base import Metric
from evalkit.metrics.clip_score import pair_score_result
from evalkit.metrics.hub_model import HubModel
from evalkit.options import Device, Options
from evalkit.results import MetricResult

QUESTION_TEMPLATE = 'Does this figure show "{}"? Please answer yes or no.'
ANSWER_TEMPLATE = "Yes"
DEFAULT_MODEL = "llava-hf/llava-1.5-13b-hf"  # t2v_metrics' llava-v1.5-13b, as published on the hub by llava-hf


class VQAScoreOptions(Options):
    model: str = DEFAULT_MODEL  # any image-text-to-text hub id or save_pretrained folder, or builtin:tiny-vqa
    revision: str | None = None
    question_template: str = QUESTION_TEMPLATE  # "{}" is replaced by the prompt
    answer_template: str = ANSWER_TEMPLATE
    device: Device = "cpu"
    dtype: Literal["float32", "float16", "bfloat16"] = "float32"
    batch_size: int = Field(8, ge=1)


def answer_probabilities(logits, answer_ids):
    """Geometric-mean probability of the answer tokens at the end of each row: `logits`
    (B, L, V) of prompt + answer, `answer_ids` (A,) the answer's tokens (teacher forcing)."""
    import torch

    steps = len(answer_ids)
    log_probs = torch.log_softmax(logits[:, -steps - 1:-1].float(), dim=-1)
    picked = log_probs.gather(-1, answer_ids.view(1, steps, 1).expand(len(logits), steps, 1)).squeeze(-1)
    return picked.mean(dim=1).exp()


class VQAModel:
    """An image-text-to-text model and its processor; `score(images, texts)` -> VQAScores."""

    def __init__(self, options: VQAScoreOptions):
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        from evalkit.hf import quiet_hf_logging

        quiet_hf_logging()
        self.options, o = options, options
        self.hub = HubModel(o.model, o.revision, "image-text-to-text model",
                            "pass model: a save_pretrained folder, or builtin:tiny-vqa")
        self.random_weights = self.hub.random_weights
        self.processor = self.hub.load(AutoProcessor.from_pretrained)
        self.model = self.hub.load(AutoModelForImageTextToText.from_pretrained, dtype=getattr(torch, o.dtype))
        self.model = self.model.to(o.device).eval()
        if not getattr(self.processor, "chat_template", None):
            raise UserError(f"model '{o.model}' has no chat template in its processor; VQAScore needs one to ask the question")
        self.answer_ids = torch.tensor(self.processor.tokenizer(o.answer_template, add_special_tokens=False)["input_ids"])
        if len(self.answer_ids) == 0:
            raise UserError(f"metrics: answer_template '{o.answer_template}' tokenizes to nothing; give a non-empty answer")

    def prompt(self, text: str) -> str:
        question = self.options.question_template.format(text)
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]
        return self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def score(self, images: list, texts: list[str]) -> np.ndarray:
        """VQAScore of each (image, text) pair; rows that would need padding are scored one by one,
        so every score is that of its pair alone."""
        inputs = self.processor(images=images, text=[self.prompt(t) for t in texts], return_tensors="pt", padding=True)
        if len(texts) > 1 and not bool(inputs["attention_mask"].all()):
            return np.concatenate([self.score([im], [t]) for im, t in zip(images, texts)])
        return self._answer_probabilities(inputs).cpu().numpy().astype(np.float64)

    def _answer_probabilities(self, inputs):
        import torch

        rows, length = inputs["input_ids"].shape
        answer = self.answer_ids.view(1, -1).expand(rows, -1)
        batch = {}
        for key, value in inputs.items():
            if key == "input_ids":
                value = torch.cat([value, answer], dim=1)
            elif torch.is_tensor(value) and value.shape == (rows, length):  # attention mask, token types
                value = torch.cat([value, torch.full_like(answer, 1 if key == "attention_mask" else 0)], dim=1)
            elif torch.is_tensor(value) and value.is_floating_point():
                value = value.to(self.model.dtype)
            batch[key] = value.to(self.options.device) if torch.is_tensor(value) else value
        with torch.inference_mode():
            logits = self.model(**batch).logits
        return answer_probabilities(logits, self.answer_ids.to(logits.device))

    def provenance(self) -> dict:
        o = self.options
        return {**self.hub.provenance("vqa", self.model), "vqa_question_template": o.question_template,
                "vqa_answer_template": o.answer_template, "vqa_dtype": o.dtype,
                "score": "geometric-mean probability of the answer tokens (teacher forcing)"}


class VQAScore(Metric, higher_is_better=True, needs_texts=True):
    """VQAScore: P("Yes" | image, 'Does this figure show "{prompt}"?') from an image-text-to-text model."""

    Options = VQAScoreOptions

    def compute(self, ctx, name: str) -> MetricResult:
        from evalkit.images import open_rgb

        model = ctx.procs.first_on_local_main(lambda: VQAModel(self.options))
        samples, paths = ctx.samples, ctx.images.paths()
        texts = samples["text"].tolist()
        order = sorted(range(len(texts)), key=lambda i: texts[i])  # a prompt's images batch together
        mine = order[ctx.procs.rank :: ctx.procs.world_size]

        def score_mine() -> dict:
            groups: dict[str, list[int]] = {}
            for i in mine:
                groups.setdefault(texts[i], []).append(i)
            size, done = self.options.batch_size, {}
            for rows in (g[j:j + size] for g in groups.values() for j in range(0, len(g), size)):
                values = model.score([open_rgb(paths[i]) for i in rows], [texts[i] for i in rows])
                done.update(zip(rows, values))
            return done

        scores = np.empty(len(texts))
        for part in ctx.procs.run(score_mine, gather=True):
            for i, value in part.items():
                scores[i] = value
        warnings = ("VQAScore computed with RANDOM weights (built-in tiny model): not a quality measure",) \
            if model.random_weights else ()
        return pair_score_result(name, scores, samples, model.provenance(), warnings)
