"""CLIP score against torchmetrics' CLIPScore with the same model; the truncation rule; CMMD."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from evalkit.metrics.extractors.clip import ClipExtractor
from evalkit.metrics.clip_score import clip_scores
from evalkit.metrics.functional.kernel import mmd2_rbf
from evalkit.builtin.procedural import draw as _draw_procedural

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "perf"))
from peer_reference import TensorFeatures  # noqa: E402  the torchmetrics adapter, shared with the benchmark

TEXTS = ["A red cube on a table.", "Two dogs playing in the snow.", "A sign that reads 'evalkit'.",
         "An astronaut riding a horse.", "A bowl of fruit, oil painting.", "Three blue circles."]
LONG = " ".join(["a very long caption that keeps going"] * 30)


@pytest.fixture(scope="module")
def hf_clip():
    return ClipExtractor.create(backend="transformers", model="builtin:tiny-clip-hf")


@pytest.fixture(scope="module")
def pil_images():
    return [_draw_procedural(i, 64) for i in range(8)]


def test_mean_of_per_sample_scores_matches_torchmetrics(hf_clip, pil_images):
    from torchmetrics.multimodal.clip_score import CLIPScore

    img = hf_clip.extract(pil_images)
    txt = hf_clip.text_embeddings(TEXTS)
    cos = img @ txt.T
    pairs = [(i, j) for i in range(len(pil_images)) for j in range(len(TEXTS)) if cos[i, j] > 1e-3]
    assert len(pairs) >= 8, "need pairs with positive cosine (where both definitions agree)"
    ours = clip_scores(img[[i for i, _ in pairs]], txt[[j for _, j in pairs]])

    metric = CLIPScore(model_name_or_path=lambda: (TensorFeatures(hf_clip.backend.model), hf_clip.backend.processor))
    images = torch.stack([torch.from_numpy(np.array(pil_images[i])).permute(2, 0, 1) for i, _ in pairs])
    metric.update(images, [TEXTS[j] for _, j in pairs])
    assert float(ours.mean()) == pytest.approx(float(metric.compute()), abs=1e-4)


def test_clamp_is_per_sample_not_on_the_mean(hf_clip, pil_images):
    img = hf_clip.extract(pil_images)
    txt = hf_clip.text_embeddings(TEXTS)
    cos = (img @ txt.T).ravel()
    assert (cos < 0).any() and (cos > 0).any()
    per_sample = clip_scores(np.repeat(img, len(TEXTS), 0), np.tile(txt, (len(pil_images), 1)))
    assert per_sample.mean() == pytest.approx(100 * np.clip(cos, 0, None).mean())
    assert per_sample.mean() > max(100 * cos.mean(), 0)  # torchmetrics' max(mean, 0) is lower here


def test_transformers_truncation_keeps_end_token(hf_clip):
    tok = hf_clip.backend.tokenizer
    full = tok(LONG, truncation=False)["input_ids"]
    assert len(full) > 77
    kept = full[:76] + [tok.eos_token_id]  # content cut, end-of-text token kept last
    with torch.inference_mode():
        expected = hf_clip.backend.model.get_text_features(input_ids=torch.tensor([kept])).pooler_output
    expected = torch.nn.functional.normalize(expected.float(), dim=-1).numpy()
    np.testing.assert_allclose(hf_clip.text_embeddings([LONG]), expected, atol=1e-6)
    assert hf_clip.count_truncated([LONG, "short", LONG + "!"]) == 2


def test_open_clip_truncation_keeps_end_token():
    clip = ClipExtractor.create(model="builtin:tiny-clip")
    tokens = clip.backend.tokenizer([LONG, "short"])
    eot = clip.backend.tokenizer.eot_token_id
    assert tokens.shape == (2, 77) and int(tokens[0, -1]) == eot and eot in tokens[1].tolist()
    assert clip.count_truncated([LONG, "short"]) == 1


def naive_cmmd(x, y, sigma=10.0):
    k = lambda a, b: np.exp(-np.sum((a - b) ** 2) / (2 * sigma**2))  # noqa: E731
    kxx = np.mean([[k(a, b) for b in x] for a in x])
    kyy = np.mean([[k(a, b) for b in y] for a in y])
    kxy = np.mean([[k(a, b) for b in y] for a in x])
    return kxx + kyy - 2 * kxy


def test_cmmd_rbf_mmd_matches_double_sums():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(9, 4)) * 5
    y = rng.normal(size=(7, 4)) * 5 + 2
    assert mmd2_rbf(x, y, 10.0) == pytest.approx(naive_cmmd(x, y), rel=1e-12)
    assert mmd2_rbf(x, x, 10.0) == pytest.approx(0.0, abs=1e-15)


def test_batching_texts_by_length_changes_no_embedding(hf_clip):
    """Sorted, padded-to-the-longest batches give what one text at a time (no padding) gives."""
    texts = ["a", LONG, "two dogs playing in the snow", "A sign", "A bowl of fruit, oil painting, very detailed"] * 3
    batched = hf_clip.text_embeddings(texts)
    one_by_one = np.concatenate([hf_clip.text_embeddings([t]) for t in texts])
    np.testing.assert_allclose(batched, one_by_one, atol=2e-6)
    assert np.abs(batched[0] - batched[1]).max() > 1e-3  # the order was put back


def test_pixels_per_image_equal_the_processor_on_the_batch(hf_clip, pil_images):
    ours = hf_clip.extract(pil_images)
    pixels = hf_clip.backend.processor(images=pil_images, return_tensors="pt")["pixel_values"]
    with torch.inference_mode():
        theirs = hf_clip.backend.model.get_image_features(pixel_values=pixels).pooler_output
    np.testing.assert_allclose(ours, torch.nn.functional.normalize(theirs, dim=-1).numpy(), atol=1e-6)
