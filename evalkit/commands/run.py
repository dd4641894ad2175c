"""`evalkit run`, `sweep`, `report` and `compare`."""

from __future__ import annotations

import argparse
from pathlib import Path



def cmd_run(args: argparse.Namespace) -> int:
    from evalkit.commands.summary import print_results
    from evalkit.config import load_spec
    from evalkit.runner.run import run_benchmark

    summary = run_benchmark(load_spec(args.spec), args.out)
    if not summary.is_main:  # under accelerate/torchrun, only the main process reports
        return 0
    remade = f" ({summary.images_remade} re-made: their files had changed)" if summary.images_remade else ""
    print(f"run {summary.results.run_id}: {summary.images_made} of {summary.images_total} images generated{remade}, "
          f"{summary.features_extracted} feature extractions")
    print_results(summary.results)
    print("  (" + ", ".join(f"{k} {v:.1f}s" for k, v in summary.seconds.items()) + ")")
    print(f"report: {summary.run_dir / 'report.html'}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from evalkit.runner.sweep import expand, load_sweep, run_sweep

    sweep, base = load_sweep(args.spec)
    if args.dry_run:  # every run planned and checked, none started
        from evalkit.runner.distributed import SingleProcess
        from evalkit.runner.sweep import plan_all

        planned = plan_all(expand(sweep, base), SingleProcess())
        for run, plan, row in planned:
            head = plan.run_id if plan else f"FAILS ({row['error']})"
            print(f"{head}  {run.label}  " + "  ".join(f"{k}={v}" for k, v in run.settings.items()))
        return 1 if any(plan is None for _, plan, _ in planned) else 0
    result = run_sweep(sweep, base, args.out)
    from evalkit.runner.distributed import current

    if not current().is_main:  # under accelerate/torchrun, only the main process reports
        return 1 if result.failed else 0
    from evalkit.reports.sweep_report import render_sweep_report

    report = render_sweep_report(result.sweep_dir)
    counts = {s: sum(r["status"] == s for r in result.rows) for s in ("ok", "skipped", "failed")}
    print(f"sweep {sweep.name}: {counts['ok']} run, {counts['skipped']} skipped (finished), {counts['failed']} failed")
    for row in result.failed:
        print(f"  failed: {row['label']}: {row['error']}")
    print(f"results: {result.sweep_dir / 'results.parquet'} (and .csv)")
    print(f"report: {report}")
    return 1 if result.failed else 0


def cmd_report(args: argparse.Namespace) -> int:
    from evalkit.reports.dispatch import render_report

    print(f"report: {render_report(args.path)}")
    return 0


def _update_baseline(baseline: str, current: str) -> int:
    import json

    from evalkit.runner.run_dir import load_results
    from evalkit.store import atomic_write_text

    _, doc = load_results(current)  # refuse to store anything that is not whole, valid results
    target = Path(baseline)
    target = target / "metrics.json" if target.is_dir() else target
    atomic_write_text(target, json.dumps(doc, indent=2) + "\n")  # atomic: the old one survives a failed write
    print(f"baseline updated: {target}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from evalkit.reports import compare as cmp
    from evalkit.runner.run_dir import load_results
    from evalkit.store import atomic_write_text

    if args.update_baseline:
        return _update_baseline(args.baseline, args.current)
    from evalkit.reports import paired

    base, cur = load_results(args.baseline)[0], load_results(args.current)[0]
    pairing = paired.pair_runs(args.baseline, args.current)
    values = paired.paired_values(base, cur, pairing) if args.exact is None else {}
    rows = cmp.compare(base, cur, cmp.parse_tolerances(args.tolerance), exact=args.exact is not None,
                       rtol=args.exact or 1e-3, paired=values)
    print(cmp.markdown(rows))
    print(f"paired tests for {', '.join(values)} (the runs share prompt ids and seeds)" if values else
          f"unpaired (CI overlap): {pairing.reason or 'no value has a paired test'}")
    if args.junit:
        atomic_write_text(args.junit, cmp.junit_xml(rows))
    if args.json:
        atomic_write_text(args.json, cmp.verdict_json(rows) + "\n")
    if cmp.failed(rows):
        bad = ", ".join(f"{r.metric} {r.verdict}" for r in rows if r.verdict in cmp.FAILING)
        print(f"FAIL: {bad}" + ("; if intended, run with --update-baseline" if args.exact is not None else ""))
        return 1
    print("OK: no regression")
    return 0


def add_parsers(sub) -> None:
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
                   help="absolute tolerance, e.g. fid=2.0 (repeatable; defaults: fid 1.0, kid 0.001, cmmd 0.05, "
                        "clip_score 0.5)")
    p.add_argument("--exact", nargs="?", type=float, const=1e-3, default=None, metavar="RTOL",
                   help="deterministic mode: any change beyond RTOL (default 1e-3), either direction, fails")
    p.add_argument("--junit", help="write JUnit XML here")
    p.add_argument("--json", help="write the JSON verdict here")
    p.add_argument("--update-baseline", action="store_true", help="write CURRENT's metrics over BASELINE and exit 0")
    p.set_defaults(func=cmd_compare)
