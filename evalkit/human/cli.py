"""`evalkit human create|invite|serve|analyze|export`. Wired into the main parser by
`add_subcommands(subparsers)`; every heavy import happens inside the command that runs."""

from __future__ import annotations

import argparse
from pathlib import Path

DB_HELP = "study database: a SQLite file, or postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME"


def _default_db(name: str) -> Path:
    return Path("studies") / f"{name}.sqlite"


def cmd_create(args: argparse.Namespace) -> int:
    from evalkit.human import db
    from evalkit.human.study import StudySettings, create_study, read_instructions

    target = args.db or str(_default_db(args.name))
    raters = tuple(r.strip() for r in args.raters.split(",") if r.strip()) if args.raters else None
    settings = StudySettings(
        ratings_per_task=args.ratings_per_task, control_rate=args.control_rate, images_per_side=args.images_per_side,
        tasks_per_rater=args.tasks_per_rater, raters=raters, claim_minutes=args.claim_minutes, access=args.access,
        instructions=read_instructions(args.instructions), practice=args.practice,
        completion_code=args.completion_code, completion_url=args.completion_url, controls_dir=args.controls_dir)
    study = create_study(target, args.runs, args.name, settings)
    with db.connect(target) as store:
        kinds = {r["kind"]: r["n"] for r in store.query("SELECT kind, count(*) AS n FROM tasks WHERE study_id = :s "
                                                        "GROUP BY kind", {"s": study.id})}
    practice = ", 1 practice task" if kinds.get("practice") else ""
    print(f"study {study.name}: {kinds.get('regular', 0)} paired tasks over {len(study.runs)} models, "
          f"{kinds.get('control', 0)} control tasks{practice}, {study.ratings_per_task} ratings per task, "
          f"{study.access} access")
    print(f"database: {args.db or target}")
    nxt = "invite --db DB --url URL --raters ... (then serve)" if study.access == "invite" else "serve --db DB"
    print(f"next: evalkit human {nxt.replace('DB', str(args.db or target))}")
    return 0


def cmd_invite(args: argparse.Namespace) -> int:
    import secrets

    from evalkit.errors import UserError
    from evalkit.human import db
    from evalkit.human.access import invite_link

    if bool(args.raters) == bool(args.count):
        raise UserError("give either --raters a,b,c (named raters) or --count N (random ids), not both or neither")
    with db.connect(args.db) as store:
        study = db.get_study(store, args.study)
    if study.access not in ("invite", "open"):
        raise UserError(f"study {study.name} takes its raters from {study.access}: no invitation links are needed")
    ids = ([r.strip() for r in args.raters.split(",") if r.strip()] if args.raters
           else [f"{args.prefix}{secrets.token_hex(5)}" for _ in range(args.count)])
    lines = ["rater_id,link"] + [f"{r},{invite_link(study, args.url, r)}" for r in ids]
    if args.output:
        from evalkit.store import atomic_write_text

        atomic_write_text(args.output, "\n".join(lines) + "\n")
        print(f"{len(ids)} invitation links for study {study.name} written to {args.output}")
    else:
        print("\n".join(lines))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from evalkit.human.serve import serve

    return serve(args.db, args.port, args.address, args.study, args.admin_token)


def cmd_analyze(args: argparse.Namespace) -> int:
    import json

    from evalkit.human.analysis import AnalysisOptions
    from evalkit.human.report import analyze_db, attach, format_text, json_safe, render_result_html

    options = AnalysisOptions(args.min_control_accuracy, args.bootstrap, args.seed, args.min_seconds)
    result = analyze_db(args.db, args.study, options)
    if args.html:
        from evalkit.store import atomic_write_text

        atomic_write_text(args.html, render_result_html(result, page=True))
    print(json.dumps(json_safe(result), indent=2) if args.json else format_text(result))
    for folder in args.report or ():
        from evalkit.reports.dispatch import render_report  # re-render that run's or sweep's report

        attach(result, folder)
        print(f"report: {render_report(folder)}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from evalkit.human import db
    from evalkit.human.export import votes_frame, write_votes

    with db.connect(args.db) as store:
        frame = votes_frame(store, db.get_study(store, args.study))
    path = write_votes(frame, args.output)
    print(f"{len(frame)} votes written to {path}")
    return 0


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _add_create(sub) -> None:
    p = sub.add_parser("create", help="pair runs over their shared prompts into a study database")
    p.add_argument("--runs", nargs="+", required=True, metavar="RUN_DIR", help="two or more run directories (model A first)")
    p.add_argument("--name", required=True, help="study name (letters, digits, . _ - @); never shown to raters")
    p.add_argument("--db", help=f"{DB_HELP}; created or added to (default: studies/NAME.sqlite)")
    p.add_argument("--ratings-per-task", type=int, default=3, help="raters per paired task (default: 3)")
    p.add_argument("--control-rate", type=float, default=0.1,
                   help="share of each rater's tasks that are control tasks with a known answer, 0-0.5 (default: 0.1)")
    p.add_argument("--images-per-side", type=int, default=8, help="images shown per model, 1-8 (default: 8)")
    p.add_argument("--tasks-per-rater", type=int, help="regular tasks one rater gets (default: every task once)")
    p.add_argument("--access", choices=["open", "invite", "prolific", "mturk"], default="open",
                   help="who may rate: any id, signed invitation links only, or a crowd platform (default: open)")
    p.add_argument("--raters", help="open access: comma-separated rater ids allowed to rate (default: any id)")
    p.add_argument("--instructions", metavar="FILE.md", help="Markdown shown with the consent form before the first task")
    p.add_argument("--practice", action="store_true", help="start every rater with one practice task (not analysed)")
    p.add_argument("--completion-code", help="shown when a rater is done (Prolific: the study's completion code)")
    p.add_argument("--completion-url", help="link a rater follows when done (default for Prolific: its return URL)")
    p.add_argument("--controls-dir", help="folder for the degraded control images (default: beside a SQLite file, "
                                          "else ./studies/controls); every app replica needs it")
    p.add_argument("--claim-minutes", type=float, default=30,
                   help="a task shown but unanswered this long stops holding a rating slot (default: 30)")
    p.set_defaults(func=cmd_create)


def add_subcommands(subparsers) -> None:
    """Register `human` and its subcommands on the main parser's subparsers."""
    human = subparsers.add_parser("human", help="human preference studies (DrawBench protocol): create, invite, serve, "
                                                "analyze, export",
                                  description="Pairwise human preference studies between runs (docs/human.md).")
    sub = human.add_subparsers(dest="human_command", metavar="SUBCOMMAND", required=True)
    _add_create(sub)

    p = sub.add_parser("invite", help="print (or write) signed personal rating links")
    p.add_argument("--db", required=True, help=DB_HELP)
    p.add_argument("--study", help="study name, when the database holds several")
    p.add_argument("--url", required=True, help="the app's public address, e.g. https://rate.example.org")
    p.add_argument("--raters", help="comma-separated rater ids to invite")
    p.add_argument("--count", type=int, help="or: this many raters with random ids")
    p.add_argument("--prefix", default="r-", help="prefix of random ids (default: r-)")
    p.add_argument("-o", "--output", help="write rater_id,link lines to this CSV file instead of printing them")
    p.set_defaults(func=cmd_invite)

    p = sub.add_parser("serve", help="run the rating app (Streamlit) for one study; run it again for more replicas")
    p.add_argument("--db", required=True, help=DB_HELP)
    p.add_argument("--study", help="the study to serve (pinned), when the database holds several")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="127.0.0.1", help="interface to listen on (0.0.0.0 for every one)")
    p.add_argument("--admin-token", help="token for the admin view (?admin); default: $EVALKIT_HUMAN_ADMIN_TOKEN or a "
                                         "random one, printed (give every replica the same)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("analyze", help="preference rates, Bradley-Terry ranking, agreement, rater checks")
    p.add_argument("--db", required=True, help=DB_HELP)
    p.add_argument("--study", help="study name, when the database holds several")
    p.add_argument("--min-control-accuracy", type=_fraction, default=None,
                   help="drop raters whose accuracy on control tasks is below this (0-1)")
    p.add_argument("--min-seconds", type=float, default=3.0,
                   help="flag raters whose median time per task is below this (default: 3)")
    p.add_argument("--bootstrap", type=int, default=200, help="task resamples for Bradley-Terry CIs (default: 200)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default: 0)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--html", help="also write the analysis (with its figures) as an HTML page to this file")
    p.add_argument("--report", nargs="+", metavar="RUN_OR_SWEEP_DIR",
                   help="add the analysis to these run or sweep reports (kept as human-STUDY.json there; re-rendered)")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("export", help="write every vote (with its task) to .csv or .parquet")
    p.add_argument("--db", required=True, help=DB_HELP)
    p.add_argument("--study", help="study name, when the database holds several")
    p.add_argument("-o", "--output", required=True, help="output file: .csv or .parquet")
    p.set_defaults(func=cmd_export)
