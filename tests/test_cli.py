import subprocess
import sys
import textwrap

import pytest

from evalkit.cli import main

ROOT_SPEC = """
name: t
suite: {name: smoke}
generator: {name: image_folder, path: /nonexistent}
"""


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "evalkit", *args], capture_output=True, text=True, cwd=cwd)


def test_help_and_ls_import_no_torch():
    code = textwrap.dedent("""
        import sys, contextlib, io
        from evalkit.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            main(["ls"])
            try:
                main(["--help"])
            except SystemExit:
                pass
        heavy = [m for m in ("torch", "diffusers", "transformers", "open_clip", "pandas", "streamlit") if m in sys.modules]
        print(heavy)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_ls_lists_everything():
    out = run_cli("ls")
    assert out.returncode == 0
    for name in ("drawbench", "parti", "coco30k", "file", "smoke", "diffusers_pipeline", "image_folder", "imagen_cascade",
                 "deepfloyd_if", "fid", "kid", "cmmd", "clip_score", "builtin:tiny-sd", "builtin:tiny-imagen-t5"):
        assert name in out.stdout


@pytest.mark.parametrize(
    "spec, message",
    [
        ("name: t\nsuite: {name: smoke}\ngenerator: {name: difusers_pipeline, model: x}\n",
         "unknown generator 'difusers_pipeline': did you mean 'diffusers_pipeline'?"),
        ("name: t\nsuite: {name: drawbnch}\ngenerator: {name: image_folder, path: .}\n",
         "unknown suite 'drawbnch': did you mean 'drawbench'?"),
        ("name: t\nimages_per_prompt: two\nsuite: {name: smoke}\ngenerator: {name: image_folder, path: .}\n",
         "images_per_prompt: must be a whole number (got 'two')"),
        ("name: t\nsuite: {name: smoke}\n", "generator: required option is missing"),
        ("name: t\nsuite: {name: smoke}\ngenerator: {name: image_folder, path: .}\ngeneraton: {}\n",
         "generaton: unknown option; did you mean 'generation'?"),
        ("name: t\nsuite: {name: smoke}\ngenerator: {name: image_folder, path: .}\nmetrics: {fid: {}}\n",
         "metrics fid need a reference"),
        ("name: t\nsuite: [1, 2\n", "malformed YAML at line"),
        ("- just a list\n", "must be a YAML mapping"),
        ("name: t\nsuite: {name: smoke, colour: red}\ngenerator: {name: image_folder, path: .}\n",
         "suite.colour: unknown option"),
        ("name: t\nsuite: {name: smoke}\ngenerator: {name: image_folder, path: ., batch_size: \"4\"}\n",
         "generator.batch_size: must be a whole number (got '4')"),
        ("name: t\nsuite: {name: smoke}\ngenerator: {name: image_folder, path: /nonexistent/dir}\n",
         "image folder not found: /nonexistent/dir"),
    ],
)
def test_malformed_spec_is_one_line_error_with_exit_2(tmp_path, capsys, spec, message):
    path = tmp_path / "spec.yaml"
    path.write_text(spec)
    assert main(["run", str(path), "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and err.startswith("evalkit: error: ")


def test_missing_spec_file_exit_2_via_subprocess(tmp_path):
    out = run_cli("run", str(tmp_path / "nope.yaml"))
    assert out.returncode == 2
    assert "spec file not found" in out.stderr and "Traceback" not in out.stderr
