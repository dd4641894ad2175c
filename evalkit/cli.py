"""The `evalkit` command line. Heavy libraries are imported inside the commands that
use them, so `evalkit --help` and `evalkit ls` return at once."""

from __future__ import annotations

import argparse
import sys

from evalkit import __version__
from evalkit.errors import UserError


def cmd_ls(args: argparse.Namespace) -> int:
    from evalkit import registry

    from evalkit.generators.tiny import BUILDERS

    for title, table in (("suites", registry.SUITES), ("generators", registry.GENERATORS), ("metrics", registry.METRICS)):
        print(f"{title}:")
        for name in table:
            print(f"  {name:<20} {registry.DESCRIPTIONS.get(name, '')}")
    print("built-in random-weight models (offline tests and smoke runs; built into the cache on first use):")
    print("  " + ", ".join(f"builtin:{name}" for name in BUILDERS))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from evalkit.config import load_spec
    from evalkit.runner.run import run_benchmark

    spec = load_spec(args.spec)
    summary = run_benchmark(spec, args.out)
    if not summary.is_main:  # under accelerate/torchrun, only the main process reports
        return 0
    print(f"run {spec.run_id}: {summary.images_made} of {summary.images_total} images generated, "
          f"{summary.features_extracted} feature extractions")
    for key, value in summary.metrics.items():
        if "/ci95_" not in key and key.count("/") < 2 and (key.split("/")[0] != "clip_score" or key == "clip_score/mean"):
            print(f"  {key:<20} {value:.4f}")
    for warning in summary.warnings:
        print(f"  warning: {warning}")
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in summary.seconds.items())
    print(f"  ({timings})")
    print(f"report: {summary.run_dir / 'report.html'}")
    return 0


def _print_result(result: dict, as_json: bool) -> None:
    import json

    if as_json:
        print(json.dumps(result, indent=2, sort_keys=True, default=str))
        return
    for key, value in result.items():
        if key == "warnings":
            for warning in value:
                print(f"warning: {warning}")
        else:
            print(f"{key:<24} {value:.4f}" if isinstance(value, float) else f"{key:<24} {value}")


def cmd_fid_stats(args: argparse.Namespace) -> int:
    from evalkit.runner.folder import fid_stats

    _print_result(fid_stats(args.images, args.output, args.resize), args.json)
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from evalkit.runner.folder import score_folder

    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    result = score_folder(args.images, args.reference, metrics, args.resize or "clean", args.resize is not None,
                          args.kid_subset_size, args.kid_subsets, args.fid_bootstrap)
    _print_result(result, args.json)
    return 0


def cmd_clip_score(args: argparse.Namespace) -> int:
    from evalkit.runner.folder import clip_score_folder

    _print_result(clip_score_folder(args.images, args.prompts, args.clip, args.backend, args.pretrained), args.json)
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from evalkit.runner.sweep import expand, load_sweep, run_sweep

    sweep, base = load_sweep(args.spec)
    if args.dry_run:
        for plan in expand(sweep, base):
            print(f"{plan.spec.run_id}  " + "  ".join(f"{k}={v}" for k, v in plan.settings.items()))
        return 0
    result = run_sweep(sweep, base, args.out)
    from evalkit.runner.distributed import current

    if not current().is_main:  # under accelerate/torchrun, only the main process reports
        return 1 if result.failed else 0
    from evalkit.reports.sweep_report import render_sweep_report

    report = render_sweep_report(result.sweep_dir)
    counts = {s: sum(r["status"] == s for r in result.rows) for s in ("ok", "skipped", "failed")}
    print(f"sweep {sweep.name}: {counts['ok']} run, {counts['skipped']} skipped (finished), {counts['failed']} failed")
    for row in result.failed:
        print(f"  failed: {row['run_id']}: {row['error']}")
    print(f"results: {result.sweep_dir / 'results.parquet'} (and .csv)")
    print(f"report: {report}")
    return 1 if result.failed else 0


def cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    path = Path(args.path)
    if (path / "sweep.yaml").is_file():
        from evalkit.reports.sweep_report import render_sweep_report

        print(f"report: {render_sweep_report(path)}")
    elif (path / "metrics.json").is_file():
        from evalkit.reports.render import render_run_report

        print(f"report: {render_run_report(path)[0]}")
    else:
        raise UserError(f"{path} is neither a run directory (metrics.json) nor a sweep directory (sweep.yaml)")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    import shutil
    from pathlib import Path

    from evalkit.reports import compare as cmp
    from evalkit.store import atomic_write_text

    current = cmp.load_metrics(args.current)
    if args.update_baseline:
        target = Path(args.baseline)
        target = target / "metrics.json" if target.is_dir() else target
        target.parent.mkdir(parents=True, exist_ok=True)
        src = Path(args.current)
        shutil.copyfile(src / "metrics.json" if src.is_dir() else src, target)
        print(f"baseline updated: {target}")
        return 0
    rows = cmp.compare(cmp.load_metrics(args.baseline), current, cmp.parse_tolerances(args.tolerance),
                       exact=args.exact is not None, rtol=args.exact or 1e-3)
    print(cmp.markdown(rows))
    if args.junit:
        atomic_write_text(args.junit, cmp.junit_xml(rows))
    if args.json:
        atomic_write_text(args.json, cmp.verdict_json(rows) + "\n")
    if cmp.failed(rows):
        bad = [r.metric for r in rows if r.verdict in ("regressed", "changed")]
        print(f"FAIL: {', '.join(bad)} {'changed' if args.exact is not None else 'regressed'}"
              + ("; if intended, run with --update-baseline" if args.exact is not None else ""))
        return 1
    print("OK: no regression")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evalkit",
        description="Evaluate text-to-image models: prompt suites -> generators -> run directory -> metrics -> reports.",
    )
    parser.add_argument("--version", action="version", version=f"evalkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("ls", help="list suites, generators and metrics")
    p.set_defaults(func=cmd_ls)

    p = sub.add_parser("run", help="run a benchmark spec (generate, score, report); resumes where it stopped")
    p.add_argument("spec", help="benchmark YAML, e.g. benchmarks/smoke.yaml")
    p.add_argument("--out", default="runs", help="folder that holds run directories (default: runs)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("sweep", help="run a sweep: a base spec x axes, each combination a run")
    p.add_argument("spec", help="sweep YAML (name, base, axes)")
    p.add_argument("--out", default="runs", help="folder that holds sweep directories (default: runs)")
    p.add_argument("--dry-run", action="store_true", help="list the runs and exit")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("report", help="(re)render the report of a run or sweep directory")
    p.add_argument("path", help="run directory or sweep directory")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("compare", help="compare metrics with a baseline; exit 1 on a real regression")
    p.add_argument("baseline", help="baseline run directory or metrics.json")
    p.add_argument("current", help="current run directory or metrics.json")
    p.add_argument("--tolerance", action="append", default=[], metavar="METRIC=ABS",
                   help="absolute tolerance, e.g. fid=2.0 (repeatable; defaults: fid 1.0, kid/mean 0.001, "
                        "cmmd 0.05, clip_score/mean 0.5)")
    p.add_argument("--exact", nargs="?", type=float, const=1e-3, default=None, metavar="RTOL",
                   help="deterministic mode: any change beyond RTOL (default 1e-3), either direction, fails")
    p.add_argument("--junit", help="write JUnit XML here")
    p.add_argument("--json", help="write the JSON verdict here")
    p.add_argument("--update-baseline", action="store_true", help="copy CURRENT's metrics over BASELINE and exit 0")
    p.set_defaults(func=cmd_compare)

    resize_help = "resize to 299: clean (clean-fid, default) or legacy-tf (torch-fidelity/torchmetrics)"
    p = sub.add_parser("fid-stats", help="build FID reference statistics (.npz) from a folder of images")
    p.add_argument("images", help="folder of reference images (searched recursively)")
    p.add_argument("-o", "--output", required=True, help="output .npz")
    p.add_argument("--resize", choices=("clean", "legacy-tf"), default="clean", help=resize_help)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_fid_stats)

    p = sub.add_parser("score", help="FID/KID of a folder of images against a reference folder or .npz")
    p.add_argument("--images", required=True, help="folder of generated images")
    p.add_argument("--reference", required=True, help="folder of reference images, or .npz statistics (FID only)")
    p.add_argument("--metrics", default="fid", help="comma-separated: fid,kid (default: fid)")
    p.add_argument("--resize", choices=("clean", "legacy-tf"), default=None, help=resize_help)
    p.add_argument("--kid-subset-size", type=int, default=1000)
    p.add_argument("--kid-subsets", type=int, default=100)
    p.add_argument("--fid-bootstrap", type=int, default=20, help="resamples for FID's CI (0: none)")
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

    from evalkit.human.cli import add_subcommands as add_human_subcommands

    add_human_subcommands(sub)  # evalkit human create|serve|analyze|export
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except UserError as err:
        print(f"evalkit: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("evalkit: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
