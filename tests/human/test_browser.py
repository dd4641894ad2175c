"""End to end in a real browser: `evalkit human serve`'s Streamlit command on a free
loopback port, Debian's headless Chromium driven by Playwright. Rates three tasks (one by
keyboard only), reloads, double-clicks Submit, and checks the votes in the database.

Needs the `playwright` Python package (its bundled driver, no browser download) and
/usr/bin/chromium (`apt-get install -y chromium`); skipped without them, except under CI."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from evalkit.human import db
from evalkit.human.queue import next_task
from evalkit.human.study import create_study

from .conftest import PROMPTS, make_run

CHROMIUM = os.environ.get("EVALKIT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _need(ok: bool, why: str) -> None:
    if not ok:
        (pytest.fail if os.environ.get("CI") else pytest.skip)(why)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """A study served by a real Streamlit process; yields (url, db path); always stopped."""
    runs = [make_run(tmp_path / "runs", m, prompts=PROMPTS, images=4, size=96) for m in ("model-a", "model-b")]
    path = tmp_path / "study.sqlite"
    create_study(path, runs, "e2e", ratings_per_task=2, control_rate=0.2)
    port = _free_port()
    log = open(tmp_path / "streamlit.log", "wb")
    # exactly what `evalkit human serve` runs (it execs the Streamlit server, so terminate() reaches it)
    code = "import sys; from evalkit.human.serve import serve; serve(sys.argv[1], int(sys.argv[2]), admin_token='tok')"
    proc = subprocess.Popen([sys.executable, "-c", code, str(path), str(port)], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 40
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start: {(tmp_path / 'streamlit.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield url, path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def page():
    _need(Path(CHROMIUM).is_file() or shutil.which(CHROMIUM) is not None,
          f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "the playwright package is not installed: pip install playwright")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 1000})
        finally:
            browser.close()


def _votes(path, rater):
    conn = db.connect(path)
    rows = [tuple(r) for r in conn.execute(
        "SELECT task_id, quality, alignment FROM votes WHERE rater_id = ? ORDER BY id", (rater,))]
    conn.close()
    return rows


def _open_task(path, rater):
    conn = db.connect(path)
    task = next_task(conn, db.get_study(conn), rater)
    conn.close()
    return task


def _wait_for_form(page, caption: str) -> None:
    """Until the page shows this task's questions with the focus on the first answer (just
    after a submit, the previous task's form is on screen for a moment)."""
    page.wait_for_function(
        """(caption) => {
          const groups = document.querySelectorAll('[role="radiogroup"]');
          return groups.length === 2 && (groups[1].getAttribute('aria-label') || '').includes(caption)
            && groups[0].contains(document.activeElement);
        }""", arg=caption.rstrip("."), timeout=20_000)


def test_rate_three_tasks_reload_and_double_click(server, page, tmp_path):
    from playwright.sync_api import expect

    url, path = server
    shots = Path(os.environ.get("EVALKIT_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page.goto(f"{url}/?rater=e2e")
    caption = page.get_by_role("heading", name=re.compile("^Caption:"))
    expect(caption).to_be_visible(timeout=30_000)
    page.screenshot(path=shots / "human-task.png", full_page=True)

    expected = []
    labels = {"A": "I prefer set A", "tie": "I am indifferent", "B": "I prefer set B"}
    for n, (quality, alignment) in enumerate([("A", "B"), ("tie", "A"), ("B", "B")]):
        task = _open_task(path, "e2e")
        _wait_for_form(page, task.caption)
        if n == 1:  # keyboard only: focus starts on the first answer
            for key in ("ArrowRight", "Tab", "Space", "Tab", "Enter"):  # tie; A; Submit
                page.keyboard.press(key)
        else:
            groups = page.get_by_role("radiogroup")
            groups.nth(0).get_by_text(labels[quality]).click()
            groups.nth(1).get_by_text(labels[alignment]).click()
            page.get_by_role("button", name="Submit").click()
        expect(page.get_by_text(f"Rater e2e: {n + 1} of")).to_be_visible(timeout=20_000)
        expected.append((task.id, quality, alignment))
    assert _votes(path, "e2e") == expected

    page.reload()  # resumes on the fourth task; the three votes stay as they were
    fourth = _open_task(path, "e2e")
    expect(page.get_by_text("Rater e2e: 3 of")).to_be_visible(timeout=20_000)
    _wait_for_form(page, fourth.caption)
    expect(caption).to_have_text(f"Caption: {fourth.caption}")
    assert _votes(path, "e2e") == expected

    groups = page.get_by_role("radiogroup")
    groups.nth(0).get_by_text(labels["B"]).click()
    groups.nth(1).get_by_text(labels["A"]).click()
    page.get_by_role("button", name="Submit").dblclick()
    expect(page.get_by_text("Rater e2e: 4 of")).to_be_visible(timeout=20_000)
    page.wait_for_timeout(500)  # let a second submit, if any, land
    page.screenshot(path=shots / "human-after-submit.png", full_page=True)
    assert _votes(path, "e2e") == expected + [(fourth.id, "B", "A")]  # stored once
