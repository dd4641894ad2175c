"""Scale: a synthetic folder of N generated images (small PNGs made on the fly) scored end
to end against a reference folder, by evalkit, clean-fid and torch-fidelity in the same
run; wall time, peak RSS and disk use of each, as a Markdown table.

    .venv/bin/python benchmarks/perf/scale_30k.py [--n 30000] [--ref 5000] [--size 32] [--tools evalkit,clean-fid,torch-fidelity]

evalkit runs `evalkit score --metrics fid,kid,clip_score` (FID with its bootstrap CI, KID,
CLIP score with the tiny random CLIP; features cached), each peer computes FID and KID
with its own code on the same TF-2015 Inception weights (clean-fid: the shipped
TorchScript graph, as its own model is; torch-fidelity: its FeatureExtractorInceptionV3
with the weights converted to its layout). Each tool runs in a fresh process with an
empty cache; peak RSS is the child's ru_maxrss, disk the bytes it left in its cache and
output folders.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

PEERS = {
    "clean-fid": """
        import sys, numpy as np, torch
        from cleanfid import fid
        from evalkit.metrics.extractors.inception import InceptionExtractor
        layers = InceptionExtractor.create().torchscript_layers  # the TorchScript TF-2015 graph, as clean-fid runs
        model = lambda x: layers((x - 128) / 128).reshape(len(x), -1)
        feats = [fid.get_folder_features(f, model=model, num_workers=0, batch_size=32, device=torch.device("cpu"),
                                         mode="clean", verbose=False) for f in sys.argv[1:3]]
        value = fid.frechet_distance(feats[0].mean(0), np.cov(feats[0], rowvar=False), feats[1].mean(0),
                                     np.cov(feats[1], rowvar=False))
        kid = fid.kernel_distance(feats[0], feats[1], num_subsets=100, max_subset_size=1000)
        print({"fid": float(value), "kid": float(kid)})
    """,
    "torch-fidelity": """
        import sys, torch, torch_fidelity
        from evalkit.metrics.extractors.inception import InceptionExtractor
        from evalkit.metrics.extractors.inception_weights import torchscript_to_pytorch_fid
        torch.save(torchscript_to_pytorch_fid(InceptionExtractor.create().torchscript_layers.state_dict()), sys.argv[3])
        out = torch_fidelity.calculate_metrics(input1=sys.argv[1], input2=sys.argv[2], fid=True, kid=True, cuda=False,
                                               feature_extractor_weights_path=sys.argv[3], batch_size=32, cache=False,
                                               kid_subset_size=min(1000, int(sys.argv[4])), verbose=False)
        print({"fid": out["frechet_inception_distance"], "kid": out["kernel_inception_distance_mean"]})
    """,
}


def make_folder(folder: Path, n: int, size: int, seed0: int) -> None:
    from PIL import Image

    from evalkit.builtin.procedural import draw

    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed0)
    for i in range(n):
        base = np.asarray(draw(seed0 + i % 4096, size), np.int16)
        Image.fromarray(np.clip(base + rng.integers(-16, 17, base.shape), 0, 255).astype(np.uint8)).save(folder / f"p{i:05d}.png")


def du(*paths: Path) -> int:
    """Bytes of the files under `paths` (folders or files)."""
    files = [f for p in paths if p.exists() for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()]
    return sum(f.stat().st_size for f in files)


def run(cmd: list[str], env: dict, work: Path) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MiB, stdout) of a child process (its own rusage, from wait4)."""
    start = time.perf_counter()
    with open(work / "stdout", "w") as out, open(work / "stderr", "w") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{cmd[:4]} failed:\n{(work / 'stderr').read_text()[-3000:]}")
    return wall, usage.ru_maxrss / 1024, (work / "stdout").read_text()


def evalkit_cmd(root: Path) -> list[str]:
    return [sys.executable, "-m", "evalkit", "score", "--images", str(root / "gen"), "--reference", str(root / "ref"),
            "--prompts", str(root / "prompts.csv"), "--metrics", "fid,kid,clip_score",
            "--set", "clip_score.model=builtin:tiny-clip", "--json"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=30000)
    parser.add_argument("--ref", type=int, default=5000)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--tools", default="evalkit,clean-fid,torch-fidelity")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        make_folder(root / "gen", args.n, args.size, 0)
        make_folder(root / "ref", args.ref, args.size, 100_000)
        (root / "prompts.csv").write_text("id,text\n" + "".join(f"p{i:05d},a synthetic picture number {i}\n"
                                                                for i in range(args.n)))
        print(f"made {args.n} + {args.ref} PNGs of {args.size} px in {time.perf_counter() - start:.0f} s", flush=True)
        for tool in args.tools.split(","):
            cache, work = root / f"cache-{tool}", root / f"work-{tool}"
            work.mkdir()
            env = {**os.environ, "EVALKIT_CACHE": str(cache), "EVALKIT_QUIET": "1", "XDG_CACHE_HOME": str(cache)}
            if tool == "evalkit":
                cmd = evalkit_cmd(root)
            else:
                script = work / "peer.py"
                script.write_text(textwrap.dedent(PEERS[tool]))
                cmd = [sys.executable, str(script), str(root / "gen"), str(root / "ref"), str(work / "w.pth"), str(args.ref)]
            wall, rss, out = run(cmd, env, work)
            values = _values(tool, out)
            disk = du(cache, work) - du(work / "stdout", work / "stderr", work / "w.pth")  # not the converted weights
            rows.append({"tool": tool, "wall_s": round(wall, 1), "peak_rss_mib": round(rss), "disk_mib": round(disk / 2**20, 1),
                         **values})
            print(json.dumps(rows[-1]), flush=True)
    print(f"\n{args.n} generated vs {args.ref} reference images ({args.size} px PNGs), 2-core CPU")
    print("| tool | wall time | peak RSS | disk | FID | KID |\n| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['tool']} | {r['wall_s']} s | {r['peak_rss_mib']} MiB | {r['disk_mib']} MiB | {r['fid']:.3f} | {r['kid']:.5f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


def _values(tool: str, out: str) -> dict:
    if tool == "evalkit":
        doc = json.loads(out)
        return {k: m["values"][k]["value"] for k, m in doc["metrics"].items()}
    import ast

    return ast.literal_eval(out.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
