"""End to end in a real browser: the app as `evalkit human serve` runs it, Debian's headless
Chromium driven by Playwright. At 1280x800: the whole task fits without scrolling, images
arrive byte-identical and at native resolution (viewer, flip), three tasks rated (one by
keyboard only), reload, double-click; at 390x844 both sets share the screen; invitation
links work and forged ones fail; a broken server shows no path.

Needs the `playwright` package and /usr/bin/chromium (`apt-get install -y chromium`);
skipped without them, except under CI. EVALKIT_SCREENSHOTS=DIR keeps the screenshots."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest

from evalkit.human import db
from evalkit.human.access import invite_link
from evalkit.human.study import create_study

from .conftest import make_run
from .servers import CONSENT, LABELS, VIEW_READY_JS, VIEW_TOKEN_JS, need_browser, serving, shots_dir

TRICKY = "a :red[red] car :smile: [link](https://evil.example) <b>bold</b> & *stars*"
PROMPTS = [(f"p-{n}", f"Prompt {n}: {TRICKY}.", ("Colors", "Text")[n % 2]) for n in range(6)]  # 6+ views after the practice


@pytest.fixture(scope="module")
def browser():
    need_browser()
    from playwright.sync_api import sync_playwright

    from .servers import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def study(tmp_path):
    """8 images of 512 px per set, as a real DrawBench study shows them."""
    runs = [make_run(tmp_path / "runs", m, prompts=PROMPTS, images=8, size=512) for m in ("model-a", "model-b")]
    path = tmp_path / "study.sqlite"
    create_study(path, runs, "e2e", ratings_per_task=2, control_rate=0.2, practice=True)
    return path


def _view(store, token):
    return db.get_assignment(store, db.get_study(store), token)


def _next_view(page, previous=None, focused: bool = False) -> str:
    """The token of the next view once it is on screen (with `focused`: and has the keyboard focus)."""
    page.wait_for_function(VIEW_READY_JS, arg=[previous, not focused], timeout=60_000)
    return page.evaluate(VIEW_TOKEN_JS)


def _start(page, url: str) -> str:
    page.goto(url)
    page.get_by_text(CONSENT).click()
    page.get_by_role("button", name="Start").click()
    return _next_view(page)


def _answer(page, quality: str, alignment: str, dbl: bool = False) -> None:
    groups = page.get_by_role("radiogroup")
    groups.nth(0).get_by_text(LABELS[quality]).click()
    groups.nth(1).get_by_text(LABELS[alignment]).click()
    submit = page.get_by_role("button", name="Submit")
    submit.dblclick() if dbl else submit.click()


def _boxes(page) -> dict:
    return page.evaluate("""() => {
      const box = (e) => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
      const submit = Array.from(document.querySelectorAll('button')).find((b) => b.innerText.trim() === 'Submit');
      return {caption: box(document.querySelector('.ek-caption')),
              A: box(document.querySelector('.ek-set[data-side="A"]')), B: box(document.querySelector('.ek-set[data-side="B"]')),
              questions: Array.from(document.querySelectorAll('[role="radiogroup"]')).map(box), submit: box(submit),
              width: innerWidth, height: innerHeight};
    }""")


def _check_images(page, store, token: str) -> None:
    """Every image on the page is the run's file, byte for byte, at its native size."""
    view = _view(store, token)
    srcs = page.eval_on_selector_all(".ek-task img", "(imgs) => imgs.map((i) => [i.getAttribute('src'), i.naturalWidth])")
    assert len(srcs) == 16
    for src, natural in srcs:
        side, index = re.fullmatch(rf"img/{re.escape(token)}/([AB])(\d)", src).groups()
        response = page.request.get(urljoin(page.url, src))
        assert response.headers["content-type"] == "image/png"
        assert "etag" not in response.headers and "last-modified" not in response.headers  # nothing tells files apart
        assert response.body() == open(view.sides[side][int(index)], "rb").read() and natural == 512


def _check_viewer(page, shots) -> None:
    page.locator('.ek-thumb[data-side="A"][data-i="2"]').click()
    viewer = page.locator(".ek-viewer")
    assert viewer.is_visible() and "Set A · image 3 of 8" in viewer.inner_text()
    size = page.evaluate("() => { const i = document.querySelector('.ek-viewer img'); "
                         "return [i.naturalWidth, i.getBoundingClientRect().width]; }")
    assert size == [512, 512]  # 1:1, native pixels
    page.keyboard.press("f")  # flip to the other set's image at the same place
    assert "Set B · image 3 of 8" in viewer.inner_text()
    b_src = page.get_attribute('.ek-thumb[data-side="B"][data-i="2"] img', "src")
    assert page.get_attribute(".ek-viewer img", "src") == b_src
    page.screenshot(path=shots / "human-1280-viewer.png")
    page.keyboard.press("Escape")
    assert not viewer.is_visible()


def test_desktop_task_fits_and_rates(study, browser, tmp_path):
    shots = shots_dir(tmp_path)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    with serving(study, tmp_path) as (url,), db.connect(study) as store:
        token = _start(page, f"{url}/?rater=e2e")
        assert _view(store, token).task.kind == "practice" and "Practice task" in page.inner_text(".ek-progress")
        _answer(page, "A", "A")
        token = _next_view(page, token)
        page.screenshot(path=shots / "human-1280-task.png")
        b = _boxes(page)
        for name in ("caption", "A", "B", "submit", "questions"):  # everything on screen, no scrolling
            for left, top, right, bottom in (b[name] if name == "questions" else [b[name]]):
                assert 0 <= left and 0 <= top and right <= b["width"] and bottom <= b["height"], name
        assert b["A"][2] < b["B"][0] and b["A"][1] == b["B"][1]  # the sets side by side
        assert page.inner_text(".ek-caption") == f"Caption: {_view(store, token).task.caption}"  # literal
        assert page.locator(".ek-task a, .ek-question a, .ek-task b").count() == 0  # no injected link or markup
        _check_images(page, store, token)
        _check_viewer(page, shots)

        expected, totals = [], set()
        for n, (quality, alignment) in enumerate([("A", "B"), ("tie", "A"), ("B", "B")]):
            if n == 1:  # keyboard only: the focus starts on the first answer
                for key in ("ArrowRight", "Tab", "Space", "Tab", "Enter"):  # tie; A; Submit
                    page.keyboard.press(key)
            else:
                _answer(page, quality, alignment)
            expected.append((token, quality, alignment))
            token = _next_view(page, token, focused=n == 0)  # the next one is answered by keyboard only
            done, total = map(int, re.search(r"(\d+) of (\d+) tasks done", page.inner_text(".ek-progress")).groups())
            assert done == n + 1
            totals.add(total)
        assert len(totals) == 1  # a stable denominator
        page.reload()  # resumes on the same view; the votes stay as they were
        assert _next_view(page) == token
        _answer(page, "B", "A", dbl=True)
        _next_view(page, token)
        page.wait_for_timeout(500)  # let a second submit, if any, land
        rows = store.query("SELECT a.token, v.quality, v.alignment FROM votes v JOIN assignments a ON a.id = "
                           "v.assignment_id JOIN tasks t ON t.id = v.task_id WHERE v.rater_id = 'e2e' AND "
                           "t.kind <> 'practice' ORDER BY v.id")
        assert [tuple(r.values()) for r in rows] == expected + [(token, "B", "A")]  # the double click stored once


def test_phone_shows_both_sets_together(study, browser, tmp_path):
    shots = shots_dir(tmp_path)
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    with serving(study, tmp_path) as (url,):
        token = _start(page, f"{url}/?rater=phone")
        _answer(page, "B", "B")  # the practice task, by tapping
        token = _next_view(page, token)
        page.screenshot(path=shots / "human-390-task.png")
        b = _boxes(page)
        assert b["A"][3] <= b["B"][1] and b["B"][3] <= b["height"] and b["caption"][1] >= 0  # stacked, both on screen
        assert b["B"][2] <= b["width"] and page.evaluate("document.scrollingElement.scrollWidth") <= 390
        _answer(page, "tie", "A")
        _next_view(page, token)


def test_invitation_links_and_a_broken_server(tmp_path, browser, runs):
    path = tmp_path / "inv.sqlite"
    study = create_study(path, runs[:2], "inv", access="invite")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    with serving(path, tmp_path) as (url,):
        page.goto(f"{url}/?rater=alice")  # a bare id
        page.get_by_text("this study is by invitation only").wait_for()
        good = invite_link(study, url, "alice")
        page.goto(good[:-2] + ("xx" if not good.endswith("xx") else "yy"))  # forged
        page.get_by_text("this invitation link is not valid").wait_for()
        page.goto(good)
        page.get_by_text(CONSENT).wait_for()
        page.goto(f"{url}/?admin")  # nothing but the token field before login
        page.get_by_label("Admin token").wait_for()
        assert "inv" not in page.inner_text("[data-testid='stMain']") and page.locator(".ek-task").count() == 0
        path.rename(tmp_path / "gone.sqlite")  # the database disappears under a running server
        page.goto(good)
        page.get_by_text("This study is not available right now").wait_for()
        assert str(tmp_path) not in page.content() and "Traceback" not in page.content()
