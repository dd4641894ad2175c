"""The `evalkit` command line. Heavy libraries are imported inside the commands that
use them, so `evalkit --help` and `evalkit ls` return at once."""

from __future__ import annotations

import argparse
import sys

from evalkit import __version__
from evalkit.errors import UserError


def cmd_ls(args: argparse.Namespace) -> int:
    from evalkit import registry

    for title, table in (("suites", registry.SUITES), ("generators", registry.GENERATORS), ("metrics", registry.METRICS)):
        print(f"{title}:")
        for name in table:
            print(f"  {name:<20} {registry.DESCRIPTIONS.get(name, '')}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from evalkit.config import load_spec
    from evalkit.runner.run import run_benchmark

    spec = load_spec(args.spec)
    summary = run_benchmark(spec, args.out)
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
