"""evalkit's metrics against the peer libraries, side by side in one process, same inputs,
same weights. Prints images/s (or seconds) and the ratios, plus the parity deltas.

    .venv/bin/python benchmarks/perf/metrics_vs_peers.py [--images 64] [--size 256] [--device cpu]

Peers: torchmetrics FrechetInceptionDistance(antialias=False) (torch-fidelity's network,
fed our TF-2015 weights converted to its layout), scipy.linalg.sqrtm (pytorch-fid /
clean-fid's Fréchet distance) and torchmetrics' eigvals-based Fréchet distance. CLIP
score against torchmetrics: clip_vs_torchmetrics.py.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

warnings.simplefilter("ignore")


def make_pngs(folder: Path, n: int, size: int) -> list[Path]:
    from evalkit.builtin.procedural import draw as _draw_procedural

    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        base = np.asarray(_draw_procedural(i, 64).resize((size, size), Image.BICUBIC)).astype(np.int16)
        noisy = np.clip(base + rng.integers(-12, 13, base.shape), 0, 255).astype(np.uint8)
        paths.append(folder / f"{i:04d}.png")
        Image.fromarray(noisy).save(paths[-1])
    return paths


def decode(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def timed(fn, repeat: int = 2):
    """Best of `repeat` runs: this shared 2-core VM's timings wander by +-15%."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return out, best


def inception(paths, device, weights_file):
    from torchmetrics.image.fid import FrechetInceptionDistance

    from evalkit.metrics.extractors.inception import InceptionExtractor
    from evalkit.metrics.functional.frechet import frechet_distance, mean_and_cov

    half = len(paths) // 2
    ours = InceptionExtractor.create(resize="legacy-tf", device=device, batch_size=32)
    ours.extract([decode(paths[0])])  # load + warm up, not timed (both sides)
    feats, t_ours = timed(lambda: ours.extract(decode(p) for p in paths))
    fid_ours = frechet_distance(*mean_and_cov(feats[:half]), *mean_and_cov(feats[half:]))

    peer = FrechetInceptionDistance(feature=2048, antialias=False, feature_extractor_weights_path=weights_file).to(device)
    peer.update(torch.from_numpy(decode(paths[0]).copy()).permute(2, 0, 1)[None].to(device), real=True)
    peer.reset()

    def run_peer():
        for start in range(0, len(paths), 32):
            chunk = paths[start:start + 32]
            for real, part in ((True, [p for p in chunk if paths.index(p) < half]), (False, [p for p in chunk if paths.index(p) >= half])):
                if part:
                    batch = torch.from_numpy(np.stack([decode(p) for p in part])).permute(0, 3, 1, 2).to(device)
                    peer.update(batch, real=real)

    def run_peer_fresh():
        peer.reset()
        run_peer()

    _, t_peer = timed(run_peer_fresh)
    fid_peer = float(peer.compute())
    n = len(paths)
    print(f"Inception features ({n} PNGs {decode(paths[0]).shape[0]}px -> 299, legacy-tf, decode included)")
    print(f"  evalkit      {n / t_ours:7.2f} img/s")
    print(f"  torchmetrics {n / t_peer:7.2f} img/s")
    print(f"  ratio        {t_peer / t_ours:7.2f}x   FID evalkit {fid_ours:.6f} torchmetrics {fid_peer:.6f} "
          f"|delta| {abs(fid_ours - fid_peer):.2e}")

    clean = InceptionExtractor.create(resize="clean", device=device, batch_size=32)
    clean.extract([decode(paths[0])])
    _, t_clean = timed(lambda: clean.extract(decode(p) for p in paths))
    print(f"  evalkit clean mode {n / t_clean:7.2f} img/s")


def frechet(dim: int = 2048, n: int = 4096):
    import scipy.linalg
    from torchmetrics.image.fid import _compute_fid

    from evalkit.metrics.functional.frechet import frechet_distance, mean_and_cov

    rng = np.random.default_rng(0)
    mix = rng.normal(size=(dim, dim)) / np.sqrt(dim)
    a = rng.normal(size=(n, dim)) @ mix
    b = (rng.normal(size=(n, dim)) * 1.2 + 0.1) @ mix
    mu1, s1 = mean_and_cov(a)
    mu2, s2 = mean_and_cov(b)
    ours, t_ours = timed(lambda: frechet_distance(mu1, s1, mu2, s2))

    def sqrtm_fid():
        covmean, _ = scipy.linalg.sqrtm(s1 @ s2, disp=False)
        return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean.real))

    scipy_val, t_scipy = timed(sqrtm_fid, repeat=1)
    t1, t2 = (torch.from_numpy(v) for v in (mu1, mu2))
    tm_val, t_tm = timed(lambda: float(_compute_fid(t1, torch.from_numpy(s1), t2, torch.from_numpy(s2))))
    print(f"Fréchet distance, {dim}-d, float64 (covariances of {n} samples)")
    print(f"  evalkit             {t_ours:6.2f} s   FID {ours:.8f}")
    print(f"  scipy sqrtm         {t_scipy:6.2f} s   FID {scipy_val:.8f}   ratio {t_scipy / t_ours:5.1f}x  rel.delta {abs(ours - scipy_val) / scipy_val:.1e}")
    print(f"  torchmetrics eigvals{t_tm:6.2f} s   FID {tm_val:.8f}   ratio {t_tm / t_ours:5.1f}x  rel.delta {abs(ours - tm_val) / tm_val:.1e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--skip", default="", help="comma-separated: inception,frechet")
    args = parser.parse_args()
    skip = set(args.skip.split(","))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "png").mkdir()
        paths = make_pngs(tmp / "png", args.images, args.size)
        if "inception" not in skip:
            from evalkit.metrics.extractors.inception import InceptionExtractor
            from evalkit.metrics.extractors.inception_weights import torchscript_to_pytorch_fid

            weights = tmp / "pt_inception.pth"
            torch.save(torchscript_to_pytorch_fid(InceptionExtractor.create().torchscript_layers.state_dict()), weights)
            inception(paths, args.device, str(weights))
        if "frechet" not in skip:
            frechet()
    print("(CLIP score against torchmetrics: benchmarks/perf/clip_vs_torchmetrics.py)")


if __name__ == "__main__":
    main()
