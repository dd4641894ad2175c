"""Blinding, tried as a rater who has read evalkit's code would try it: everything the page
carries is collected in a real browser over every view two raters get of a three-model study
(controls included), then matched against the side orders stored on the server. The page
is the same for every view but for an opaque token and the caption; no image URL repeats;
no run, file, study name or task id appears; and predictors built from what the page shows
(the old seed-0 replay included) guess which run is set A no better than chance."""

from __future__ import annotations

import base64
import html
import random
import re

import pytest

from evalkit.human import db
from evalkit.human.stats import binomial_p
from evalkit.human.study import create_study

from .conftest import make_run
from .servers import VIEW_READY_JS, VIEW_TOKEN_JS, serving
from .test_browser import _start, browser  # noqa: F401 - the module's browser fixture

STUDY = "sd15-vs-sdxl-vs-kandinsky"  # a study name that would give the models away
CAPTURE_JS = """() => {
  const tasks = document.querySelectorAll('.ek-task');
  const task = tasks[tasks.length - 1];
  return {token: task.dataset.view, task: task.outerHTML, page: document.documentElement.outerHTML,
          keys: Array.from(document.querySelectorAll('[class*="st-key-"]')).flatMap(
            (e) => Array.from(e.classList).filter((c) => c.startsWith('st-key-'))),
          srcs: Array.from(task.querySelectorAll('img')).map((i) => i.getAttribute('src'))};
}"""


def _collect(page, url: str, rater: str) -> list[dict]:
    """Every view this rater gets, as the page shows it; answered 'indifferent' throughout."""
    views, token = [], _start(page, f"{url}/?rater={rater}")
    while True:
        views.append(page.evaluate(CAPTURE_JS))
        groups = page.get_by_role("radiogroup")
        groups.nth(0).get_by_text("I am indifferent").click()
        groups.nth(1).get_by_text("I am indifferent").click()
        page.get_by_role("button", name="Submit").click()
        try:
            page.wait_for_function(VIEW_READY_JS, arg=[token, False], timeout=8_000)
        except Exception:  # noqa: BLE001 - no next view: the rater is done
            page.get_by_text("All done").wait_for(timeout=10_000)
            return views
        token = page.evaluate(VIEW_TOKEN_JS)


def _chance(hits: list[bool]) -> bool:
    """Not distinguishable from coin flips (two-sided exact test at 1e-4: a false alarm is rare)."""
    return binomial_p(sum(hits), len(hits)) > 1e-4


@pytest.mark.slow
def test_a_rater_who_knows_the_code_predicts_sides_at_chance(tmp_path, browser):  # noqa: F811
    prompts = [(f"p-{n}", f"Prompt number {n}.", "Colors") for n in range(4)]
    runs = [make_run(tmp_path / "runs", m, prompts=prompts, images=2, size=32) for m in ("model-a", "model-b", "model-c")]
    path = tmp_path / "blind.sqlite"
    create_study(path, runs, STUDY, ratings_per_task=2, control_rate=0.25, images_per_side=2)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    with serving(path, tmp_path) as (url,):
        views = _collect(page, url, "r1") + _collect(page, url, "r2")
    with db.connect(path) as store:
        study = db.get_study(store)
        truth = {v["token"]: db.get_assignment(store, study, v["token"]) for v in views}
    kinds = [truth[v["token"]].task.kind for v in views]
    assert kinds.count("regular") == 24 and kinds.count("control") >= 2  # every task twice, controls mixed in

    masked = set()
    for v in views:
        caption = html.escape(truth[v["token"]].task.caption)
        masked.add(v["task"].replace(v["token"], "TOKEN").replace(caption, "CAPTION"))
        keys = {k.replace(v["token"], "TOKEN") for k in v["keys"]}  # widget keys: built from the token only
        assert keys == {"st-key-q-TOKEN", "st-key-a-TOKEN", "st-key-FormSubmitter-f-TOKEN-Submit"}
        for secret in ("model-a", "model-b", "model-c", STUDY, str(tmp_path), "/runs/", "/images/p-", "/controls/"):
            assert secret not in v["page"]
        # a random token may itself start "67-…": mask it, then no numbered task or key may remain
        assert not re.search(r"task[ _-]?\d|st-key-\w+-\d+\b", v["page"].replace(v["token"], "TOKEN"))
    assert len(masked) == 1  # one page for every view: regular or control, either side order
    srcs = [s for v in views for s in v["srcs"]]
    assert len(srcs) == len(set(srcs)) == 4 * len(views)  # no image URL repeats across tasks or raters

    a_left = [truth[v["token"]].a_left for v in views]
    regular_a_left = [a for a, k in zip(a_left, kinds) if k == "regular"]
    assert regular_a_left.count(True) == regular_a_left.count(False)  # balanced: each task once each way
    replay = random.Random(0)  # the old code's sides: one seed-0 draw per task, in order
    predictors = {
        "always A": [True] * len(views),
        "seed-0 replay": [replay.random() < 0.5 for _ in views],
        "token bit": [base64.urlsafe_b64decode(v["token"] + "==")[-1] & 1 == 1 for v in views],
        "first URL bit": [base64.urlsafe_b64decode(v["srcs"][0].split("/")[1] + "==")[0] & 1 == 1 for v in views],
    }
    for name, guesses in predictors.items():
        assert _chance([g == a for g, a in zip(guesses, a_left)]), name
