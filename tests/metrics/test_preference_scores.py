"""PickScore, HPSv2 and VQAScore against their original implementations' formulas,
recomputed here from each random-weight builtin's raw outputs (the builtins load through
the same code as the hub checkpoints):

- PickScore: the model card's calc_probs (processor with padding/truncation to 77,
  get_*_features, L2 norm, logit_scale.exp() * text @ image.T);
- HPSv2: hpsv2.img_score.score (state dict loaded from checkpoint['state_dict'], HPS's
  preprocess_val with ResizeMaxSize, model(image, text), image_features @ text_features.T),
  times 100 as in the HPS v2 benchmark;
- VQAScore: t2v_metrics' CLIP-FlanT5 scorer, exp(-mean cross-entropy of the answer tokens),
  here with the model's own loss (labels = the answer, -100 elsewhere).
"""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from evalkit import builtin
from evalkit.builtin.procedural import draw as _draw_procedural
from evalkit.errors import UserError
from evalkit.runner.folder import score_folder
from evalkit.suites.files import load as load_prompts

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "perf"))
from peer_reference import pickscore_model_card  # noqa: E402  the model card's formula, one home

PROMPTS = [("p0", "a red cube on a table", "Colors"), ("p1", "two dogs playing in the snow", "Counting"),
           ("p2", "a sign that reads 'evalkit'", "Text"), ("p3", "an astronaut riding a horse", "Colors")]
PER_PROMPT = 2


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """<prompt-id>/<n>.png, non-square (80x96) so that resizing and HPS's padding are exercised."""
    root = tmp_path_factory.mktemp("pref")
    for p, (pid, _, _) in enumerate(PROMPTS):
        (root / "images" / pid).mkdir(parents=True)
        for i in range(PER_PROMPT):
            _draw_procedural(40 + 10 * p + i, 64).resize((80, 96)).save(root / "images" / pid / f"{i}.png")
    (root / "prompts.csv").write_text("id,text,category\n" + "".join(f'{a},"{b}",{c}\n' for a, b, c in PROMPTS))
    return root


def score(folder, **metrics):
    return score_folder(str(folder / "images"), None, metrics, load_prompts(folder / "prompts.csv"))[0]


def pairs(folder):
    """(PIL image, prompt text) of every image, in the samples' order (prompt id, index)."""
    return [(Image.open(folder / "images" / pid / f"{i}.png").convert("RGB"), text)
            for pid, text, _ in PROMPTS for i in range(PER_PROMPT)]


@pytest.fixture(scope="module")
def pickscore(folder):
    return score(folder, pickscore={"model": "builtin:tiny-pickscore"}).metrics["pickscore"]


def test_pickscore_is_the_model_cards_formula(folder, pickscore):
    from transformers import AutoModel, AutoProcessor

    source = builtin.resolve("builtin:tiny-pickscore")
    processor, model = AutoProcessor.from_pretrained(source), AutoModel.from_pretrained(source).eval()
    expected = [pickscore_model_card(processor, model, image, prompt) for image, prompt in pairs(folder)]
    np.testing.assert_allclose(pickscore.per_sample["pickscore"], expected, rtol=0, atol=2e-5)
    assert pickscore.provenance["logit_scale_exp"] == pytest.approx(100.0, rel=1e-6)


def test_pickscore_reports_ci_per_category_and_n(pickscore):
    overall = pickscore.values["pickscore"]
    assert overall.n == 8 and overall.low <= overall.value <= overall.high
    colors = pickscore.categories["pickscore"]["Colors"]
    assert colors.n == 4 and colors.value == pytest.approx(pickscore.per_sample["pickscore"].iloc[[0, 1, 6, 7]].mean(), abs=1e-5)
    assert pickscore.provenance["clip_model"] == "builtin:tiny-pickscore" and "RANDOM" in pickscore.warnings[0]


def hps_preprocess_val(image: Image.Image, size: int) -> torch.Tensor:
    """HPS v2's preprocess_val (hpsv2/src/open_clip/transform.py, resize_longest_max=True)."""
    import torchvision.transforms.functional as F
    from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD
    from torchvision.transforms import Compose, InterpolationMode, Normalize, ToTensor

    def resize_max_size(img):  # their ResizeMaxSize(size, fill=0)
        height, width = img.shape[1:]
        scale = size / float(max(height, width))
        if scale != 1.0:
            new_size = tuple(round(dim * scale) for dim in (height, width))
            img = F.resize(img, new_size, InterpolationMode.BICUBIC)
            pad_h, pad_w = size - new_size[0], size - new_size[1]
            img = F.pad(img, padding=[pad_w // 2, pad_h // 2, pad_w - pad_w // 2, pad_h - pad_h // 2], fill=0)
        return img

    return Compose([ToTensor(), resize_max_size, Normalize(OPENAI_DATASET_MEAN, OPENAI_DATASET_STD)])(image)


def test_hpsv2_is_hps_img_score_times_100(folder):
    import open_clip

    from evalkit.builtin.preference import HPS_ARCHITECTURE, HPS_CHECKPOINT

    result = score(folder, hpsv2={"model": "builtin:tiny-hpsv2"}).metrics["hpsv2"]
    source = builtin.resolve("builtin:tiny-hpsv2")
    open_clip.add_model_config(source / f"{HPS_ARCHITECTURE}.json")
    model = open_clip.create_model(HPS_ARCHITECTURE)
    model.load_state_dict(torch.load(source / HPS_CHECKPOINT, map_location="cpu")["state_dict"])
    model.eval()
    tokenizer = open_clip.get_tokenizer(HPS_ARCHITECTURE)
    expected = []
    for image, prompt in pairs(folder):
        with torch.no_grad():
            image_features, text_features, _ = model(hps_preprocess_val(image, 64).unsqueeze(0), tokenizer([prompt]))
            expected.append(100 * float(torch.diagonal(image_features @ text_features.T)[0]))
    np.testing.assert_allclose(result.per_sample["hpsv2"], expected, rtol=0, atol=2e-5)
    assert len(result.provenance["clip_weights_sha256"]) == 64


@pytest.fixture(scope="module")
def vqa(folder):
    return score(folder, vqascore={"model": "builtin:tiny-vqa", "batch_size": 3}).metrics["vqascore"]


def test_vqascore_is_exp_minus_the_answers_cross_entropy(folder, vqa):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    source = builtin.resolve("builtin:tiny-vqa")
    processor, model = AutoProcessor.from_pretrained(source), AutoModelForImageTextToText.from_pretrained(source).eval()
    answer = processor.tokenizer("Yes", add_special_tokens=False)["input_ids"]
    expected = []
    for image, prompt in pairs(folder):
        question = f'Does this figure show "{prompt}"? Please answer yes or no.'
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]
        text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        inputs = processor(images=[image], text=[text], return_tensors="pt")
        input_ids = torch.cat([inputs["input_ids"], torch.tensor([answer])], dim=1)
        labels = torch.full_like(input_ids, -100)
        labels[0, -len(answer):] = torch.tensor(answer)
        with torch.no_grad():
            loss = model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                         pixel_values=inputs["pixel_values"], labels=labels).loss
        expected.append(float(torch.exp(-loss)))
    np.testing.assert_allclose(vqa.per_sample["vqascore"], expected, rtol=2e-6)
    assert len(answer) > 1  # several answer tokens: the geometric mean, not one token's probability


def test_vqascore_of_a_pair_does_not_depend_on_its_batch(folder, vqa):
    alone = score(folder, vqascore={"model": "builtin:tiny-vqa", "batch_size": 1}).metrics["vqascore"]
    np.testing.assert_allclose(alone.per_sample["vqascore"], vqa.per_sample["vqascore"], rtol=1e-5)
    assert vqa.values["vqascore"].n == 8 and set(vqa.categories["vqascore"]) == {"Colors", "Counting", "Text"}
    assert vqa.provenance["vqa_question_template"] == 'Does this figure show "{}"? Please answer yes or no.'


def test_vqascore_needs_a_chat_template(tmp_path, folder):
    import shutil

    model = tmp_path / "no-template"
    shutil.copytree(builtin.resolve("builtin:tiny-vqa"), model)
    (model / "chat_template.jinja").unlink()
    with pytest.raises(UserError, match="has no chat template"):
        score(folder, vqascore={"model": str(model)})


@pytest.mark.parametrize("metric, options, message", [
    ("pickscore", {"model": "yuvalkirstain/PickScore_v1"}, "could not load transformers CLIPModel"),
    ("hpsv2", {}, "could not download hf-file:xswu/HPSv2/HPS_v2.1_compressed.pt"),
    ("vqascore", {}, "could not load image-text-to-text model 'llava-hf/llava-1.5-13b-hf'"),
])
def test_hub_models_offline_are_one_line_errors(folder, metric, options, message):
    with pytest.raises(UserError, match=message) as err:
        score(folder, **{metric: options})
    assert "\n" not in str(err.value)
