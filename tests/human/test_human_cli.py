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
from evalkit.human.queue import next_task
from evalkit.human.serve import streamlit_command
from evalkit.human.votes import submit_vote


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="evalkit")
    add_subcommands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_create_analyze_export(tmp_path, runs, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run(["human", "create", "--runs", *map(str, runs), "--name", "abc", "--ratings-per-task", "2"]) == 0
    out = capsys.readouterr().out
    assert "16 paired tasks over 3 models" in out and "studies/abc.sqlite" in out
    path = tmp_path / "studies" / "abc.sqlite"
    conn = db.connect(path)
    study = db.get_study(conn)
    for rater in ("r1", "r2"):
        while (task := next_task(conn, study, rater)) is not None:
            submit_vote(conn, task.id, rater, "A", "B", f"{rater}-{task.id}")

    assert run(["human", "analyze", "--db", str(path), "--bootstrap", "10", "--html", "section.html"]) == 0
    text = capsys.readouterr().out
    assert "model-a vs model-b" in text and "Bradley-Terry" in text and "control tasks" in text
    assert (tmp_path / "section.html").read_text().startswith("<section")
    assert run(["human", "analyze", "--db", str(path), "--bootstrap", "0", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["study"] == "abc" and result["votes"] == len(pd.read_sql("SELECT * FROM votes", conn))

    assert run(["human", "export", "--db", str(path), "-o", "votes.parquet"]) == 0
    assert len(pd.read_parquet(tmp_path / "votes.parquet")) == result["votes"]
    conn.close()


def test_user_errors(tmp_path, runs):
    with pytest.raises(UserError, match="no study database"):
        run(["human", "analyze", "--db", str(tmp_path / "nope.sqlite")])
    with pytest.raises(UserError, match="not a finished run directory"):
        run(["human", "create", "--runs", str(runs[0]), str(tmp_path), "--name", "x", "--db", str(tmp_path / "x.db")])
    with pytest.raises(SystemExit):  # argparse: threshold must be a fraction
        run(["human", "analyze", "--db", "x", "--min-control-accuracy", "80"])


def test_serve_command_is_headless_on_the_given_port(tmp_path):
    cmd = streamlit_command(tmp_path / "s.sqlite", 8765, "127.0.0.1")
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4].endswith("evalkit/human/app.py")
    flags = dict(zip(cmd[5:-3:2], cmd[6:-3:2]))
    assert flags["--server.headless"] == "true" and flags["--server.port"] == "8765"
    assert flags["--browser.gatherUsageStats"] == "false"
    assert cmd[-3:] == ["--", "--db", str((tmp_path / "s.sqlite").resolve())]


def test_cli_module_imports_nothing_heavy():
    code = ("import sys, evalkit.human.cli; heavy = {'streamlit', 'pandas', 'scipy', 'numpy', 'PIL'} & set(sys.modules);"
            "print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
