"""Human results in the run and sweep reports: a real two-run sweep of the tiny pipeline, a
study over its runs, votes, then `evalkit human analyze --report` adds the study (tables and
figures, HTML and Markdown) to the sweep's report and to a run's report."""

from __future__ import annotations

import re

import pytest

from evalkit.cli import main
from evalkit.human.study import create_study

from .test_analysis import _simulate

PROMPTS = "id,text,category\na,A red cube.,Colors\nb,Two dogs.,Counting\nc,A sign that reads 'hi'.,Text\n"
# Two runs of the tiny pipeline that differ in guidance only, scored with the tiny CLIP.
BASE = """
name: base
images_per_prompt: 2
suite: {{name: file, path: {prompts}}}
generator: {{name: diffusers_pipeline, model: "builtin:tiny-sd", batch_size: 4}}
generation: {{num_inference_steps: 2}}
metrics: {{clip_score: {{model: "builtin:tiny-clip"}}}}
"""
SWEEP = "name: duo\nbase: base.yaml\naxes: {generation.guidance_scale: [1.0, 4.0]}\n"


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("human-sweep")
    (root / "p.csv").write_text(PROMPTS)
    (root / "base.yaml").write_text(BASE.format(prompts=root / "p.csv"))
    (root / "sweep.yaml").write_text(SWEEP)
    assert main(["sweep", str(root / "sweep.yaml"), "--out", str(root / "out")]) == 0
    return next((root / "out").iterdir())


@pytest.mark.slow
def test_analysis_goes_into_the_sweep_and_run_reports(sweep_dir, tmp_path, capsys):
    runs = sorted((sweep_dir / "runs").iterdir())
    db_path = tmp_path / "study.sqlite"
    create_study(db_path, runs, "duo-study", ratings_per_task=2, control_rate=0.2, images_per_side=2)
    _simulate(db_path, ["r1", "r2"], lambda view, rng: view.task.run_b)  # the second run always wins
    assert main(["human", "analyze", "--db", str(db_path), "--bootstrap", "0", "--report", str(sweep_dir),
                 str(runs[0])]) == 0
    out = capsys.readouterr().out
    assert f"report: {sweep_dir / 'report.html'}" in out and f"report: {runs[0] / 'report.html'}" in out
    for folder in (sweep_dir, runs[0]):
        assert (folder / "human-duo-study.json").is_file()
        page = (folder / "report.html").read_text()
        section = page[page.index('<section class="human-study">'):page.index("</section>")]
        assert "<code>duo-study</code>" in section and re.search(r"\d+ votes by 2 raters", section)
        assert len(re.findall(r'<img class="plot" alt="Preference rates per category, [^"]+" src="data:image/png', section)) == 1
        assert "100.0%" in section  # run_b preferred in every vote
        md = (folder / "report.md").read_text()
        assert "## Human preference study: `duo-study`" in md and "| prefer A | indifferent | prefer B |" in md
        figure = re.search(r"!\[Preference rates per category[^\]]*\]\((human-duo-study-0\.png)\)", md)[1]
        assert (folder / figure).read_bytes()[:4] == b"\x89PNG"
    assert "human-study" not in (runs[1] / "report.html").read_text()  # only where it was attached
