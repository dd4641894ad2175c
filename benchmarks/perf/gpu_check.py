"""The prepared GPU check: one script, under 8 minutes on a lent GPU, one JSON of results.

    .venv/bin/python benchmarks/perf/gpu_check.py --device cuda --out gpu-check.json
    .venv/bin/python benchmarks/perf/gpu_check.py --device cpu --tiny --out cpu-tiny.json   # what CI runs

1. Inception extraction img/s, evalkit vs torchmetrics FrechetInceptionDistance.update on
   the same device and images (the TF-2015 weights in both), and |delta FID|.
2. An SD-1.5-architecture pipeline (random weights, 512 px, fp16, 25 steps; --tiny:
   builtin:tiny-sd, 64 px, fp32, 2 steps) through diffusers_pipeline vs a bare diffusers
   loop: images/s of each and the adapter overhead (generator_overhead.py's method).
3. Peak memory of an IF-style cascade (three stages: 64 -> 256 -> 1024 sized UNets on a
   T5 encoder; --tiny: the tiny IF stages) with loading: sequential vs resident, each in
   a fresh process (torch.cuda.max_memory_allocated on CUDA, RSS on CPU).
4. FID with its (default, linearized) jackknife CI of 30K x 2048 features against
   reference statistics (--tiny: 3K x 512): seconds with the covariances and
   eigensolves on the device (the torch path a `device: cuda` metric takes) vs NumPy on
   the host, and |delta|.
Random weights throughout: speed and memory do not depend on the values.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# SD 1.5's published component configs (runwayml/stable-diffusion-v1-5), random weights.
SD15_UNET = {"sample_size": 64, "cross_attention_dim": 768, "attention_head_dim": 8, "layers_per_block": 2,
             "block_out_channels": [320, 640, 1280, 1280],
             "down_block_types": ["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"],
             "up_block_types": ["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3}
SD15_VAE = {"block_out_channels": [128, 256, 512, 512], "latent_channels": 4, "layers_per_block": 2,
            "down_block_types": ["DownEncoderBlock2D"] * 4, "up_block_types": ["UpDecoderBlock2D"] * 4,
            "sample_size": 512}
SD15_TEXT = {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
             "max_position_embeddings": 77, "hidden_act": "quick_gelu"}


def build_sd15(out: Path) -> Path:
    import torch
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from clip_vs_torchmetrics import clip_tokenizer

    tokenizer = clip_tokenizer(out)
    torch.manual_seed(0)
    text = CLIPTextModel(CLIPTextConfig(**SD15_TEXT, vocab_size=len(tokenizer), bos_token_id=tokenizer.bos_token_id,
                                        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.eos_token_id))
    scheduler = PNDMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", skip_prk_steps=True,
                              steps_offset=1)
    pipe = StableDiffusionPipeline(vae=AutoencoderKL(**SD15_VAE), text_encoder=text, tokenizer=tokenizer,
                                   unet=UNet2DConditionModel(**SD15_UNET), scheduler=scheduler, safety_checker=None,
                                   feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(out / "sd15")
    return out / "sd15"


def inception_check(args, tmp: Path) -> dict:
    import numpy as np
    import torch
    from torchmetrics.image.fid import FrechetInceptionDistance

    from evalkit.metrics.extractors.inception import InceptionExtractor
    from evalkit.metrics.extractors.inception_weights import torchscript_to_pytorch_fid
    from evalkit.metrics.functional.frechet import frechet_distance, mean_and_cov
    from metrics_vs_peers import decode, make_pngs

    (tmp / "png").mkdir()
    n, size = (16, 64) if args.tiny else (512, 256)
    paths = make_pngs(tmp / "png", n, size)
    ours = InceptionExtractor.create(resize="legacy-tf", device=args.device, batch_size=64)
    weights = tmp / "pt_inception.pth"
    torch.save(torchscript_to_pytorch_fid(ours.torchscript_layers.state_dict()), weights)
    ours.extract([decode(paths[0])])
    sync, start = _sync(args.device), time.perf_counter()
    feats = ours.extract(decode(p) for p in paths)
    t_ours = (sync() or time.perf_counter()) - start
    peer = FrechetInceptionDistance(feature=2048, antialias=False, feature_extractor_weights_path=str(weights)).to(args.device)
    batches = [torch.from_numpy(np.stack([decode(p) for p in paths[i:i + 64]])).permute(0, 3, 1, 2) for i in range(0, n, 64)]
    peer.update(batches[0][:1].to(args.device), real=True)
    peer.reset()
    start = time.perf_counter()
    for i, b in enumerate(batches):
        peer.update(b.to(args.device), real=i < len(batches) / 2 if len(batches) > 1 else True)
    t_peer = (sync() or time.perf_counter()) - start
    return {"images": n, "size": size, "evalkit_img_s": round(n / t_ours, 2), "torchmetrics_img_s": round(n / t_peer, 2),
            "ratio": round(t_peer / t_ours, 3),
            "fid_half_vs_half_evalkit": float(frechet_distance(*mean_and_cov(feats[: n // 2]), *mean_and_cov(feats[n // 2:])))}


def _sync(device: str):
    def sync():
        if device.startswith("cuda"):
            import torch

            torch.cuda.synchronize()
    return sync


def sd_check(args, tmp: Path) -> dict:
    from generator_overhead import sd_overhead

    model = "builtin:tiny-sd" if args.tiny else str(build_sd15(tmp))
    batch, steps = (2, 2) if args.tiny else (8, 25)
    ns = argparse.Namespace(sd_model=model, device=args.device, batch=batch, steps=steps, repeats=2 if args.tiny else 3,
                            dtype="float32" if args.tiny or args.device == "cpu" else "float16")
    row = sd_overhead(ns)
    row["images_per_s_adapter"] = round(batch / row["adapter_best_s"], 3)
    row["images_per_s_bare"] = round(batch / row["bare_best_s"], 3)
    return row


def cascade_memory(args, tmp: Path) -> list[dict]:
    from generator_overhead import peak_memory

    ns = argparse.Namespace(device=args.device, memory_images=1 if args.tiny else 2, threads=1)
    if args.tiny:
        options = {"name": "deepfloyd_if", "stage_1": "builtin:tiny-if-1", "stage_2": "builtin:tiny-if-2",
                   "stage_3": "builtin:tiny-sd-x4-upscaler"}
    else:
        from evalkit.generators.cascade.build import build_cascade, preset

        arch = preset("imagen")
        arch["text_encoder"]["config"] = {**arch["text_encoder"]["config"], "num_layers": 12}  # T5-XXL width, half depth
        options = {"name": "imagen_cascade", "model": str(build_cascade(tmp / "cascade", arch, dtype="float16")),
                   "dtype": "float16"}
    return peak_memory(ns, options)


def frechet_check(args, tmp: Path) -> dict:
    import numpy as np

    from evalkit.metrics.functional.frechet_ci import CIPlan, GaussianStats, fid_interval

    n, d = (3000, 512) if args.tiny else (30000, 2048)
    rng = np.random.default_rng(0)
    mix = rng.normal(size=(d, d)).astype(np.float32) / np.sqrt(d)
    ref = GaussianStats.of(rng.normal(size=(n, d)).astype(np.float32) @ mix)
    x = rng.normal(size=(n, d)).astype(np.float32) @ mix + 0.01
    groups = np.arange(n) % 1000
    out = {"n": n, "dim": d}
    for label, device in (("device", args.device), ("numpy", None)):
        sync = _sync(args.device)
        start = time.perf_counter()
        est = fid_interval(x, ref, CIPlan(method="linearized", device=device), groups)
        sync()
        out[f"{label}_s"], out[f"{label}_fid"] = round(time.perf_counter() - start, 2), est.value
    out["abs_delta"] = abs(out["device_fid"] - out["numpy_fid"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes (CPU, CI): proves the script works")
    parser.add_argument("--out", default="gpu-check.json")
    args = parser.parse_args()
    import torch

    os.environ.setdefault("EVALKIT_CACHE", tempfile.mkdtemp(prefix="evalkit-gpu-check-"))
    result = {"device": args.device, "tiny": args.tiny, "torch": torch.__version__,
              "gpu": torch.cuda.get_device_name() if args.device.startswith("cuda") else None}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name, check in (("inception", inception_check), ("sd15", sd_check), ("cascade_memory", cascade_memory),
                            ("frechet", frechet_check)):
            folder = Path(tmp) / name
            folder.mkdir()
            result[name] = check(args, folder)
            print(json.dumps({name: result[name]}), flush=True)
    result["seconds"] = round(time.perf_counter() - start, 1)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"written {args.out} ({result['seconds']} s)")


if __name__ == "__main__":
    main()
