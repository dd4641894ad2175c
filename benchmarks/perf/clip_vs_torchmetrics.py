"""CLIP score: evalkit against torchmetrics' CLIPScore, side by side in one process, on the
same model and inputs; prints pairs/s, the ratio and the largest per-sample difference.

    .venv/bin/python benchmarks/perf/clip_vs_torchmetrics.py [--pairs 32] [--rounds 5] [--device cpu]

Inputs, all offline: crops of the real photographs that ship with matplotlib and
scikit-learn (grace_hopper.jpg, china.jpg, flower.jpg) at several sizes, and the first
real COCO captions of ../shared/data/coco/coco_30k.csv (one distinct caption per image,
as in a COCO-30K run). The model is a ViT-B/32-sized transformers CLIPModel (CLIPConfig
defaults) with random weights (real weights are not available offline; speed does not
depend on the values). Rounds alternate (evalkit first, then torchmetrics first, ...);
the best round of each is reported, since this 2-core VM is shared.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from peer_reference import TensorFeatures  # the torchmetrics adapter, shared with the parity test

warnings.simplefilter("ignore")
ROOT = Path(__file__).resolve().parents[2]


def photos() -> list[Image.Image]:
    import matplotlib
    import sklearn

    files = [Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg",
             Path(sklearn.__file__).parent / "datasets" / "images" / "china.jpg",
             Path(sklearn.__file__).parent / "datasets" / "images" / "flower.jpg"]
    return [Image.open(f).convert("RGB") for f in files]


def crops(n: int) -> list[Image.Image]:
    """n crops of the photos: varied positions, sizes 224-400 px, some not square."""
    rng = np.random.default_rng(0)
    out, sources = [], photos()
    for i in range(n):
        img = sources[i % len(sources)]
        w, h = int(rng.integers(224, min(400, img.width))), int(rng.integers(224, min(400, img.height)))
        x, y = int(rng.integers(0, img.width - w)), int(rng.integers(0, img.height - h))
        out.append(img.crop((x, y, x + w, y + h)))
    return out


def captions(n: int) -> list[str]:
    with open(ROOT.parent / "shared" / "data" / "coco" / "coco_30k.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["prompt"].strip() for r in rows[:n]]


def clip_tokenizer(folder: Path):
    """CLIP's real BPE tokenizer (49408 tokens), rebuilt from the vocabulary file open_clip
    ships, so captions have their real token lengths (what the text tower's cost depends on)."""
    import gzip

    from open_clip.tokenizer import bytes_to_unicode, default_bpe
    from transformers import CLIPTokenizer

    merges = gzip.open(default_bpe()).read().decode("utf-8").split("\n")[1:49152 - 256 - 2 + 1]
    chars = list(bytes_to_unicode().values())
    vocab = chars + [c + "</w>" for c in chars] + ["".join(m.split()) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
    return CLIPTokenizer(vocab={t: i for i, t in enumerate(vocab)}, merges=[tuple(m.split()) for m in merges])


def clip_folder(folder: Path) -> Path:
    """A ViT-B/32-sized transformers CLIP (CLIPConfig defaults) with random weights, saved as a real checkpoint is."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    tokenizer = clip_tokenizer(folder)
    config = CLIPConfig(text_config={"vocab_size": len(tokenizer), "bos_token_id": tokenizer.bos_token_id,
                                     "eos_token_id": tokenizer.eos_token_id, "pad_token_id": tokenizer.eos_token_id})
    torch.manual_seed(0)
    CLIPModel(config).save_pretrained(folder)
    CLIPProcessor(image_processor=CLIPImageProcessor(), tokenizer=tokenizer).save_pretrained(folder)
    return folder


def evalkit_scores(extractor, images, texts) -> np.ndarray:
    """What the clip_score metric computes: image features, distinct texts encoded once, per-pair scores."""
    from evalkit.metrics.clip_score import clip_scores

    img = extractor.extract(images)
    unique = list(dict.fromkeys(texts))
    txt = extractor.text_embeddings(unique)
    index = {t: i for i, t in enumerate(unique)}
    return clip_scores(img, txt[[index[t] for t in texts]])


def torchmetrics_run(extractor, images, texts) -> float:
    """torchmetrics' CLIPScore as users run it: update() per batch of 32, then compute()."""
    from torchmetrics.multimodal.clip_score import CLIPScore

    metric = CLIPScore(model_name_or_path=lambda: (TensorFeatures(extractor.backend.model), extractor.backend.processor))
    tensors = [torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1) for im in images]
    for start in range(0, len(images), 32):
        metric.update(tensors[start:start + 32], texts[start:start + 32])
    return float(metric.compute())


def torchmetrics_per_sample(extractor, images, texts) -> np.ndarray:
    """The per-pair scores behind torchmetrics' mean (its functional form), for the comparison."""
    from torchmetrics.functional.multimodal.clip_score import _clip_score_update

    model = TensorFeatures(extractor.backend.model)
    tensors = [torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1) for im in images]
    with torch.no_grad():
        parts = [_clip_score_update(tensors[s:s + 32], texts[s:s + 32], model, extractor.backend.processor)[0]
                 for s in range(0, len(images), 32)]
    return torch.cat(parts).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    from evalkit.metrics.extractors.clip import ClipExtractor

    images, texts = crops(args.pairs), captions(args.pairs)
    with tempfile.TemporaryDirectory() as tmp:
        extractor = ClipExtractor.create(backend="transformers", model=str(clip_folder(Path(tmp))), device=args.device)
        runs = {"evalkit": lambda: evalkit_scores(extractor, images, texts),
                "torchmetrics": lambda: torchmetrics_run(extractor, images, texts)}
        best, out = {k: float("inf") for k in runs}, {}
        for r in range(args.rounds + 1):  # round 0 warms up
            for name in (list(runs) if r % 2 else list(runs)[::-1]):
                start = time.perf_counter()
                out[name] = runs[name]()
                if r:
                    best[name] = min(best[name], time.perf_counter() - start)
        theirs = np.clip(torchmetrics_per_sample(extractor, images, texts), 0, None)  # we clamp each score
    ours = out["evalkit"]
    print(f"CLIP score, {args.pairs} real-photo crops with real COCO captions, ViT-B/32-sized transformers CLIP, "
          f"{torch.get_num_threads()} threads, best of {args.rounds} rounds")
    for name, seconds in best.items():
        print(f"  {name:<13} {args.pairs / seconds:7.2f} pairs/s")
    print(f"  ratio         {best['torchmetrics'] / best['evalkit']:7.2f}x")
    print(f"  max |per-sample score difference| {np.max(np.abs(ours - theirs)):.2e}")


if __name__ == "__main__":
    main()
