"""`evalkit score`, `clip-score` and `fid-stats`: folders of images scored through the same
metric classes as `evalkit run` (evalkit.runner.folder)."""

from __future__ import annotations

import argparse

from evalkit.errors import UserError

RESIZE_HELP = "resize to 299: clean (clean-fid, default) or legacy-tf (torch-fidelity/torchmetrics)"


def parse_settings(items: list[str]) -> dict[str, dict]:
    """`--set kid.subset_size=16` (repeatable; values are YAML scalars) -> {metric: {option: value}}."""
    import yaml

    out: dict[str, dict] = {}
    for item in items:
        key, sep, value = item.partition("=")
        metric, dot, option = key.strip().partition(".")
        if not (sep and dot and metric and option):
            raise UserError(f"bad --set '{item}': use METRIC.OPTION=VALUE, e.g. kid.subset_size=100")
        try:
            out.setdefault(metric, {})[option] = yaml.safe_load(value)
        except yaml.YAMLError:
            raise UserError(f"bad --set '{item}': the value is not a YAML scalar") from None
    return out


def _metrics(names: str, settings: dict[str, dict]) -> dict[str, dict]:
    chosen = [m.strip() for m in names.split(",") if m.strip()]
    if not chosen:
        raise UserError("--metrics names no metric; e.g. --metrics fid,kid")
    unknown = sorted(set(settings) - set(chosen))
    if unknown:
        raise UserError(f"--set names metric '{unknown[0]}', which is not in --metrics {names}")
    return {name: settings.get(name, {}) for name in chosen}


def cmd_score(args: argparse.Namespace) -> int:
    from evalkit.runner.distributed import current
    from evalkit.runner.folder import reference_spec, score_folder
    from evalkit.suites.files import load as load_prompts

    settings = parse_settings(args.set)
    for metric, option, value in (("kid", "subset_size", args.kid_subset_size), ("kid", "subsets", args.kid_subsets),
                                  ("fid", "bootstrap", args.fid_bootstrap)):
        if value is not None:
            settings.setdefault(metric, {})[option] = value
    prompts = load_prompts(args.prompts) if args.prompts else None
    results, extracted = score_folder(args.images, reference_spec(args.reference, args.resize),
                                      _metrics(args.metrics, settings), prompts)
    if current().is_main:
        _report(results, extracted, args.json)
    return 0


def _report(results, extracted: int, as_json: bool) -> None:
    from evalkit.commands.summary import print_results

    if not as_json:
        print(f"{results.n_images} images, {extracted} feature extractions")
    print_results(results, as_json, {"features_extracted": extracted})


def cmd_clip_score(args: argparse.Namespace) -> int:
    from evalkit.runner.distributed import current
    from evalkit.runner.folder import score_folder
    from evalkit.suites.files import load as load_prompts

    options = {"model": args.clip, "backend": args.backend, "pretrained": args.pretrained}
    results, extracted = score_folder(args.images, None, {"clip_score": options}, load_prompts(args.prompts))
    if current().is_main:
        _report(results, extracted, args.json)
    return 0


def cmd_fid_stats(args: argparse.Namespace) -> int:
    import json

    from evalkit.runner.distributed import current
    from evalkit.runner.folder import fid_stats

    info = fid_stats(args.images, args.output, args.resize)
    if current().is_main:
        if args.json:
            print(json.dumps(info, indent=2, sort_keys=True, default=str))
        else:
            print(f"reference statistics of {info['n']} images ({info['resize']}) written to {info['output']}")
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("fid-stats", help="build FID reference statistics (.npz) from a folder of images")
    p.add_argument("images", help="folder of reference images (searched recursively)")
    p.add_argument("-o", "--output", required=True, help="output .npz")
    p.add_argument("--resize", choices=("clean", "legacy-tf"), default="clean", help=RESIZE_HELP)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_fid_stats)

    p = sub.add_parser("score", help="score a folder of images with any metrics (as `evalkit run` would)")
    p.add_argument("--images", required=True, help="folder of generated images, or a run directory")
    p.add_argument("--reference", help="folder of reference images, or .npz statistics (FID only)")
    p.add_argument("--prompts", help="prompts file (CSV/TSV/JSONL/TXT) for metrics that need texts; images as <id>/<n>.png")
    p.add_argument("--metrics", default="fid", help="comma-separated, e.g. fid,kid,clip_score (default: fid)")
    p.add_argument("--set", action="append", default=[], metavar="METRIC.OPTION=VALUE",
                   help="a metric option, e.g. kid.subsets=50 or clip_score.model=ViT-B-32 (repeatable)")
    p.add_argument("--resize", choices=("clean", "legacy-tf"), default=None, help=RESIZE_HELP)
    p.add_argument("--kid-subset-size", type=int, default=None, help="KID subset size (default: min(1000, n))")
    p.add_argument("--kid-subsets", type=int, default=None, help="KID subsets (default: 100)")
    p.add_argument("--fid-bootstrap", type=int, default=None, help="resamples for FID's CI (default 20; 0: none)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("clip-score", help="CLIP score of images (<prompt-id>/<n>.png) against a prompts file")
    p.add_argument("--images", required=True, help="folder with <prompt-id>/<n>.png or <prompt-id>.png")
    p.add_argument("--prompts", required=True, help="CSV/TSV/JSONL/TXT prompts file (ids must match the images)")
    p.add_argument("--clip", required=True, help="model: e.g. ViT-B-32, local-dir:PATH, a hub id, builtin:tiny-clip")
    p.add_argument("--backend", choices=("open_clip", "transformers"), default="open_clip")
    p.add_argument("--pretrained", default=None, help="open_clip pretrained tag or checkpoint (e.g. openai)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_clip_score)
