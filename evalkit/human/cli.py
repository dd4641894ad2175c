"""`evalkit human create|serve|analyze|export`. Wired into the main parser by
`add_subcommands(subparsers)`; every heavy import happens inside the command that runs."""

from __future__ import annotations

import argparse
from pathlib import Path


def _default_db(name: str) -> Path:
    return Path("studies") / f"{name}.sqlite"


def cmd_create(args: argparse.Namespace) -> int:
    from evalkit.human.study import create_study

    db_path = Path(args.db) if args.db else _default_db(args.name)
    raters = [r.strip() for r in args.raters.split(",") if r.strip()] if args.raters else None
    study = create_study(db_path, args.runs, args.name, ratings_per_task=args.ratings_per_task,
                         control_rate=args.control_rate, images_per_side=args.images_per_side, seed=args.seed,
                         raters=raters, claim_minutes=args.claim_minutes)
    from evalkit.human import db

    conn = db.connect(db_path)
    try:
        regular, controls = conn.execute("SELECT sum(is_control = 0), sum(is_control = 1) FROM tasks WHERE study_id = ?",
                                          (study.id,)).fetchone()
    finally:
        conn.close()
    print(f"study {study.name}: {regular} paired tasks over {len(study.runs)} models, {controls or 0} control tasks, "
          f"{study.ratings_per_task} ratings per task")
    print(f"database: {db_path}")
    print(f"next: evalkit human serve --db {db_path}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from evalkit.human.serve import serve

    return serve(args.db, args.port, args.address, args.study, args.admin_token)


def _json_safe(obj):
    """NaN is not JSON: write null."""
    if isinstance(obj, float) and obj != obj:
        return None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_json_safe(v) for v in obj]
    return obj


def cmd_analyze(args: argparse.Namespace) -> int:
    import json

    from evalkit.human.report import analyze_db, format_text, render_result_html

    result = analyze_db(args.db, args.study, args.min_control_accuracy, args.bootstrap, args.seed)
    if args.html:
        from evalkit.store import atomic_write_text

        atomic_write_text(args.html, render_result_html(result))
    print(json.dumps(_json_safe(result), indent=2) if args.json else format_text(result))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from evalkit.human import db
    from evalkit.human.export import votes_frame, write_votes

    conn = db.connect(args.db)
    try:
        frame = votes_frame(conn, db.get_study(conn, args.study))
    finally:
        conn.close()
    path = write_votes(frame, args.output)
    print(f"{len(frame)} votes written to {path}")
    return 0


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def add_subcommands(subparsers) -> None:
    """Register `human` and its subcommands on the main parser's subparsers."""
    human = subparsers.add_parser("human", help="human preference studies (DrawBench protocol): create, serve, analyze, export",
                                  description="Pairwise human preference studies between runs (docs/human.md).")
    sub = human.add_subparsers(dest="human_command", metavar="SUBCOMMAND", required=True)

    p = sub.add_parser("create", help="pair runs over their shared prompts into a study database")
    p.add_argument("--runs", nargs="+", required=True, metavar="RUN_DIR", help="two or more run directories (model A first)")
    p.add_argument("--name", required=True, help="study name (letters, digits, . _ - @)")
    p.add_argument("--db", help="SQLite file to create or add to (default: studies/NAME.sqlite)")
    p.add_argument("--ratings-per-task", type=int, default=3, help="raters per paired task (default: 3)")
    p.add_argument("--control-rate", type=float, default=0.1,
                   help="share of each rater's tasks that are control tasks with a known answer, 0-0.5 (default: 0.1)")
    p.add_argument("--images-per-side", type=int, default=8, help="images shown per model, 1-8 (default: 8)")
    p.add_argument("--raters", help="comma-separated rater ids allowed to rate (default: any id)")
    p.add_argument("--seed", type=int, default=0, help="seed for sides, controls and queue order (default: 0)")
    p.add_argument("--claim-minutes", type=float, default=30,
                   help="a task shown but unanswered this long stops holding a rating slot (default: 30)")
    p.set_defaults(func=cmd_create)

    p = sub.add_parser("serve", help="run the rating app (Streamlit) for a study database")
    p.add_argument("--db", required=True, help="study database made by `evalkit human create`")
    p.add_argument("--study", help="study name, when the database holds several")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="127.0.0.1", help="interface to listen on (0.0.0.0 for every one)")
    p.add_argument("--admin-token", help="token for the admin view (?admin); default: $EVALKIT_HUMAN_ADMIN_TOKEN or a random one, printed")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("analyze", help="preference rates, Bradley-Terry ranking, agreement, control accuracy")
    p.add_argument("--db", required=True, help="study database")
    p.add_argument("--study", help="study name, when the database holds several")
    p.add_argument("--min-control-accuracy", type=_fraction, default=None,
                   help="drop raters whose accuracy on control tasks is below this (0-1)")
    p.add_argument("--bootstrap", type=int, default=200, help="task resamples for Bradley-Terry CIs (default: 200)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--html", help="also write the analysis as an HTML section to this file")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("export", help="write every vote (with its task) to .csv or .parquet")
    p.add_argument("--db", required=True, help="study database")
    p.add_argument("--study", help="study name, when the database holds several")
    p.add_argument("-o", "--output", required=True, help="output file: .csv or .parquet")
    p.set_defaults(func=cmd_export)
