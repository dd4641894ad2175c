"""The two walk-throughs of docs/generators.md, taken from the file itself: every block
marked `<!-- file: PATH -->` is written to PATH, every `<!-- run -->` block is a command."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from evalkit.cli import main
from evalkit.config import load_spec

pytestmark = pytest.mark.slow

DOC = Path(__file__).resolve().parents[2] / "docs" / "generators.md"
BLOCK = re.compile(r"<!-- (file: (?P<path>\S+)|run) -->\n```\w*\n(?P<body>.*?)\n```", re.S)


def walkthrough(title: str) -> tuple[dict[str, str], list[str]]:
    """(files by path, command lines) of the doc section headed `title`."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"## Walk-through: {title}")
    end = text.find("\n## ", start + 1)
    files, commands = {}, []
    for m in BLOCK.finditer(text[start : end if end > 0 else None]):
        if m.group("path"):
            files[m.group("path")] = m.group("body") + "\n"
        else:
            commands += [line for line in m.group("body").splitlines() if line.strip()]
    return files, commands


def write(files: dict[str, str], root: Path) -> None:
    for rel, body in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(body)


def test_the_plugin_walkthrough_runs_as_written(tmp_path):
    files, commands = walkthrough("bring your own model as a plugin")
    assert {"my-t2i-plugin/pyproject.toml", "my-t2i-plugin/my_t2i/__init__.py", "my-t2i.yaml"} <= set(files)
    write(files, tmp_path)
    site = tmp_path / "site"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    bin_dir = Path(sys.executable).parent
    outputs = []
    for line in commands:
        args = shlex.split(line.replace(".venv/bin/", f"{bin_dir}/"))
        pipe = None
        if "|" in args:  # `evalkit ls | grep my_t2i`: check the listing here
            pipe, args = args[args.index("|") + 2 :], args[: args.index("|")]
        if args[1:3] == ["install", "-q"]:  # into a folder of this test, not the test venv
            args += ["--no-build-isolation", "--target", str(site)]
        proc = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"{line}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        if pipe:
            assert any(pipe[0] in out for out in proc.stdout.splitlines())
        outputs.append(proc.stdout)
    assert "my_t2i                 my-t2i (my_t2i:MyT2I) plugin from my-t2i" in outputs[2]
    assert "22 of 22 images generated" in outputs[3]
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert len(list((run_dir / "images").rglob("*.png"))) == 22 and (run_dir / "report.html").is_file()


def test_the_imagen_pytorch_walkthrough_plans_on_the_tiny_cascade(tiny, tmp_path, monkeypatch, capsys):
    files, commands = walkthrough("evaluate your imagen-pytorch model")
    assert commands[0].endswith("-e '.[imagen-pytorch]'")
    assert commands[1] == ".venv/bin/python -m evalkit.generators.imagen_pytorch_tiny tiny-imagen"
    write(files, tmp_path)
    (tmp_path / "tiny-imagen").symlink_to(tiny.root)  # what that command writes (the session's training)
    monkeypatch.chdir(tmp_path)
    spec = load_spec("imagen-pytorch.yaml")
    assert spec.generator.name == "imagen_pytorch" and set(spec.metrics) == {"fid", "kid", "clip_score"}
    assert commands[2:] == [".venv/bin/evalkit run imagen-pytorch.yaml --out runs",
                            ".venv/bin/evalkit sweep imagen-pytorch-sweep.yaml --out runs"]
    assert main(["sweep", "imagen-pytorch-sweep.yaml", "--dry-run"]) == 0  # every run planned and checked
    planned = capsys.readouterr().out.strip().splitlines()
    assert len(planned) == 4 and not any(line.startswith("FAILS") for line in planned)
