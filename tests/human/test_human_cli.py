"""`evalkit human ...` through argparse (registered by add_subcommands, as evalkit/cli.py does)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pandas as pd
import pytest

from evalkit.errors import UserError
from evalkit.human import db
from evalkit.human.cli import add_subcommands
from evalkit.human.queue import next_assignment
from evalkit.human.serve import ASGI, streamlit_command
from evalkit.human.votes import submit_vote


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="evalkit")
    add_subcommands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_create_analyze_export(tmp_path, runs, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "studies" / "abc.sqlite"
    (tmp_path / "intro.md").write_text("# Welcome\n\nRate carefully.\n")
    assert run(["human", "create", "--runs", *map(str, runs), "--name", "abc", "--ratings-per-task", "2",
                "--instructions", "intro.md", "--practice"]) == 0
    out = capsys.readouterr().out
    assert "16 paired tasks over 3 models" in out and "1 practice task" in out and "studies/abc.sqlite" in out
    conn = db.connect(path)
    study = db.get_study(conn)
    assert study.instructions == "# Welcome\n\nRate carefully.\n"
    assert run(["human", "analyze", "--db", str(path)]) == 0  # no votes yet: explained, no crash
    assert "no votes yet" in capsys.readouterr().out
    for rater in ("r1", "r2"):
        while (view := next_assignment(conn, study, rater)) is not None:
            submit_vote(conn, study, view.token, "A", "B", rater)

    assert run(["human", "analyze", "--db", str(path), "--bootstrap", "10", "--html", "section.html"]) == 0
    text = capsys.readouterr().out
    assert "model-a vs model-b" in text and "Bradley-Terry" in text and "control tasks" in text
    page = (tmp_path / "section.html").read_text()  # a whole page, with the reports' CSS
    assert page.startswith("<!doctype html>") and '<section class="human-study">' in page
    assert page.count('src="data:image/png;base64,') == 4  # 3 pairs' preference bars + the Bradley-Terry plot
    assert run(["human", "analyze", "--db", str(path), "--bootstrap", "0", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    votes = conn.scalar("SELECT count(*) FROM votes v JOIN tasks t ON t.id = v.task_id WHERE t.kind <> 'practice'")
    assert result["study"] == "abc" and result["votes"] == votes and result["note"] is None

    assert run(["human", "export", "--db", str(path), "-o", "votes.parquet"]) == 0
    exported = pd.read_parquet(tmp_path / "votes.parquet")
    assert len(exported) == votes + 2 and (exported["kind"] == "practice").sum() == 2  # practice exported, not analysed
    conn.close()


def test_user_errors(tmp_path, runs):
    with pytest.raises(UserError, match="no study database"):
        run(["human", "analyze", "--db", str(tmp_path / "nope.sqlite")])
    with pytest.raises(UserError, match="not a finished run directory"):
        run(["human", "create", "--runs", str(runs[0]), str(tmp_path), "--name", "x", "--db", str(tmp_path / "x.db")])
    with pytest.raises(SystemExit):  # argparse: threshold must be a fraction
        run(["human", "analyze", "--db", "x", "--min-control-accuracy", "80"])
    with pytest.raises(UserError, match="cannot read --instructions"):
        run(["human", "create", "--runs", *map(str, runs[:2]), "--name", "x", "--db", str(tmp_path / "y.db"),
             "--instructions", str(tmp_path / "missing.md")])
    assert not (tmp_path / "y.db").exists()  # nothing half made


def test_serve_command_is_headless_on_the_given_port():
    cmd = streamlit_command(8765, "127.0.0.1")
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4] == str(ASGI)
    flags = dict(zip(cmd[5::2], cmd[6::2]))
    assert flags["--server.headless"] == "true" and flags["--server.port"] == "8765"
    assert flags["--browser.gatherUsageStats"] == "false" and flags["--client.showErrorDetails"] == "none"
    assert not any("sqlite" in part or "postgres" in part for part in cmd)  # the database travels in the environment


def test_cli_module_imports_nothing_heavy():
    code = ("import sys, evalkit.human.cli; heavy = {'streamlit', 'pandas', 'scipy', 'numpy', 'PIL', 'psycopg', "
            "'matplotlib'} & set(sys.modules);"
            "print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
