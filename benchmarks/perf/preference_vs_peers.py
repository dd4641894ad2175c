"""Learned preference scorers against their reference implementations' code paths, side by
side in one process, on the same random-weight builtins (tiny-pickscore, tiny-hpsv2,
tiny-vqa), the same images and prompts. Prints pairs/s, the ratios and the largest score
difference (the scores must agree: they are the parity tests' formulas).

    .venv/bin/python benchmarks/perf/preference_vs_peers.py [--pairs 32] [--repeat 2] [--out result.json]

Peers (re-typed from the originals, which cannot be installed beside evalkit: hpsv2 pins
pytest 7 / protobuf < 4, image-reward pins timm 0.6.13, t2v_metrics pins torch 2.5 /
transformers 4.49):
- PickScore: the model card's calc_probs, one call per (prompt, image): processor for the
  image and for the prompt, get_image_features / get_text_features, norm, logit scale;
- HPSv2: hpsv2.img_score.score's loop: preprocess_val and tokenizer per image, model(image,
  text), the diagonal of image_features @ text_features.T (x 100 as the HPS benchmark);
- VQAScore: t2v_metrics' CLIP-FlanT5 scorer, exp(-cross-entropy of the answer), one pair per
  forward pass.
ImageReward has no peer row: its package cannot be installed with evalkit's stack
(docs/metrics.md). Tiny models make per-pair overheads (processors, tokenizers, Python)
dominate, which is what batching removes; with full-size models the network dominates and
the ratios shrink. On this shared 2-core VM timings wander: each is the best of --repeat.
"""

from __future__ import annotations

import argparse
import json
import logging
import warnings

import numpy as np
import torch
from PIL import Image

from evalkit import builtin
from metrics_vs_peers import timed  # this folder's best-of-N timer
from peer_reference import pickscore_model_card

warnings.simplefilter("ignore")
logging.getLogger().setLevel(logging.ERROR)  # open_clip's "no pretrained weights" note for the peer's bare model


def pairs(n: int) -> tuple[list[Image.Image], list[str]]:
    from evalkit.builtin.procedural import draw
    from evalkit.suites.smoke import Smoke

    prompts = [p.text for p in Smoke.create().prompts()]
    # two images per prompt, as a run with images_per_prompt: 2 scores them
    return [draw(i, 64).resize((256, 256)) for i in range(n)], [prompts[(i // 2) % len(prompts)] for i in range(n)]


def measured(ours, peer, repeat: int):
    """((scores, seconds) of ours, (scores, seconds) of the peer), each after one untimed warm-up
    call (lazy initialisation, first-call allocations), alternating so both see the same load."""
    ours(), peer()
    return timed(ours, repeat), timed(peer, repeat)


def pickscore(images, texts, repeat):
    from transformers import AutoModel, AutoProcessor

    from evalkit.metrics.extractors.clip import ClipExtractor

    ours = ClipExtractor.create(backend="transformers", model="builtin:tiny-pickscore")
    scale = float(ours.backend.model.logit_scale.detach().exp())

    def evalkit_scores():
        unique = list(dict.fromkeys(texts))
        txt = ours.text_embeddings(unique)
        return scale * np.sum(ours.extract(images) * txt[[unique.index(t) for t in texts]], axis=1)

    source = builtin.resolve("builtin:tiny-pickscore")
    processor, model = AutoProcessor.from_pretrained(source), AutoModel.from_pretrained(source).eval()

    def peer_scores():
        return np.array([pickscore_model_card(processor, model, image, prompt) for image, prompt in zip(images, texts)])

    return "PickScore", "model card calc_probs, per pair", measured(evalkit_scores, peer_scores, repeat)


def hpsv2(images, texts, repeat):
    import open_clip

    from evalkit.builtin.preference import HPS_ARCHITECTURE, HPS_CHECKPOINT
    from evalkit.metrics.extractors.clip import ClipExtractor
    from evalkit.metrics.extractors.clip_backends import hpsv2_transform

    ours = ClipExtractor.create(backend="hpsv2", model="builtin:tiny-hpsv2")

    def evalkit_scores():
        unique = list(dict.fromkeys(texts))
        txt = ours.text_embeddings(unique)
        return 100 * np.sum(ours.extract(images) * txt[[unique.index(t) for t in texts]], axis=1)

    source = builtin.resolve("builtin:tiny-hpsv2")
    model = open_clip.create_model(HPS_ARCHITECTURE)
    model.load_state_dict(torch.load(source / HPS_CHECKPOINT, map_location="cpu")["state_dict"])
    model.eval()
    tokenizer = open_clip.get_tokenizer(HPS_ARCHITECTURE)
    mean, std = open_clip.constants.OPENAI_DATASET_MEAN, open_clip.constants.OPENAI_DATASET_STD

    def peer_scores():
        out = []
        for image, prompt in zip(images, texts):
            with torch.no_grad():
                image_features, text_features, _ = model(hpsv2_transform(image, 64, mean, std).unsqueeze(0),
                                                         tokenizer([prompt]))
                out.append(100 * float(torch.diagonal(image_features @ text_features.T)[0]))
        return np.array(out)

    return "HPSv2", "hpsv2.img_score.score loop, per pair", measured(evalkit_scores, peer_scores, repeat)


def vqascore(images, texts, repeat):
    from evalkit.metrics.vqascore import VQAModel, VQAScoreOptions

    ours = VQAModel(VQAScoreOptions(model="builtin:tiny-vqa", batch_size=8))

    def evalkit_scores():  # as the metric batches: a prompt's images together
        out = np.empty(len(texts))
        order = sorted(range(len(texts)), key=lambda i: texts[i])
        groups: dict[str, list[int]] = {}
        for i in order:
            groups.setdefault(texts[i], []).append(i)
        for rows in groups.values():
            out[rows] = ours.score([images[i] for i in rows], [texts[i] for i in rows])
        return out

    processor, model, answer = ours.processor, ours.model, ours.answer_ids

    def peer_scores():
        out = []
        for image, prompt in zip(images, texts):
            inputs = processor(images=[image], text=[ours.prompt(prompt)], return_tensors="pt")
            input_ids = torch.cat([inputs["input_ids"], answer[None]], dim=1)
            labels = torch.full_like(input_ids, -100)
            labels[0, -len(answer):] = answer
            with torch.no_grad():
                loss = model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                             pixel_values=inputs["pixel_values"], labels=labels).loss
            out.append(float(torch.exp(-loss)))
        return np.array(out)

    return "VQAScore", "t2v_metrics exp(-CE), per pair", measured(evalkit_scores, peer_scores, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    images, texts = pairs(args.pairs)
    rows = []
    print(f"{args.pairs} pairs (256 px images, 2 per prompt), random-weight builtins, best of {args.repeat}\n")
    print("| scorer | evalkit pairs/s | peer | peer pairs/s | evalkit / peer | max score difference |")
    print("| --- | ---: | --- | ---: | ---: | ---: |")
    for bench in (pickscore, hpsv2, vqascore):
        name, peer, ((ours, t_ours), (theirs, t_peer)) = bench(images, texts, args.repeat)
        row = {"scorer": name, "peer": peer, "evalkit_pairs_s": args.pairs / t_ours, "peer_pairs_s": args.pairs / t_peer,
               "max_abs_diff": float(np.max(np.abs(ours - theirs)))}
        rows.append(row)
        print(f"| {name} | {row['evalkit_pairs_s']:.1f} | {peer} | {row['peer_pairs_s']:.1f} | "
              f"{row['evalkit_pairs_s'] / row['peer_pairs_s']:.2f}x | {row['max_abs_diff']:.2g} |")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
