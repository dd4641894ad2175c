"""The page's HTML builders and the report figures, without a browser: user text escaped,
nothing but the token in the markup, scripts that survive st.html's sanitiser, PNG figures."""

from __future__ import annotations

import base64
import io
import re

from PIL import Image

from evalkit.human import page
from evalkit.human.plots import bradley_terry_plot, preference_bars
from evalkit.human.report import render_result_html
from evalkit.human.stats import wilson


def test_task_html_carries_only_the_token_and_the_caption():
    caption = 'A <script>alert(1)</script> "sign" & :red[x] [a](javascript:alert(1))'
    html = page.task_html("TOKEN123abc", caption, 8)
    markup = html.split("<script>")[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &quot;sign&quot; &amp; :red[x] [a](javascript:alert(1))" in markup
    assert re.findall(r'src="([^"]+)"', markup) == [f"img/TOKEN123abc/{s}{i}" for s in "AB" for i in range(8)]
    stripped = markup.replace("TOKEN123abc", "").replace(page.text(caption), "")
    assert not re.search(r"\d{2,}", stripped.replace("1 of 8", "").replace("image 1", ""))  # no ids, no numbers
    assert html.count("<script>") == 1 and "--cols:4;--rows:2;--pcols:4" in html


def test_scripts_survive_the_sanitiser():
    # DOMPurify (inside st.html) drops a <script> whose text looks like markup: "<" then a letter, "/" or "!"
    assert not re.search(r"<[/\w!]", page.asset("viewer.js"))


def test_messages_and_progress_are_literal():
    assert page.notice_html("error", "rater id '[x](https://e.vil)' <b>") == (
        '<div class="ek-notice ek-error" role="alert">rater id &#x27;[x](https://e.vil)&#x27; &lt;b&gt;</div>')
    assert "3 of 8 tasks done" in page.progress_html(3, 8, False) and 'style="width:37.5%"' in page.progress_html(3, 8, False)
    assert "not counted" in page.progress_html(0, 8, True)
    done = page.completion_html("C<1>", 'https://x.example/?a=1&b="2"')
    assert "C&lt;1&gt;" in done and 'href="https://x.example/?a=1&amp;b=&quot;2&quot;"' in done


def test_every_image_count_has_a_layout():
    for n in range(1, 9):
        cols = page.COLUMNS[n]
        assert 1 <= cols <= 4 and cols * 2 >= n  # at most two rows beside the questions, up to 8 images


def _rows(question, a, b, cats):
    rows = []
    for category, (ka, kt, kb) in cats.items():
        n = ka + kt + kb
        row = {"question": question, "model_a": a, "model_b": b, "category": category, "n": n}
        for side, k in (("a", ka), ("tie", kt), ("b", kb)):
            low, high = wilson(k, n)
            row.update({f"{side}_rate": k / n, f"{side}_low": low, f"{side}_high": high})
        rows.append(row)
    return rows


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return Image.open(io.BytesIO(data)).size


def test_preference_bars_and_bradley_terry_figures():
    cats = {"all": (30, 5, 15), "Colors": (10, 2, 3), "Text": (20, 3, 12)}
    prefs = _rows("quality", "m1", "m2", cats) + _rows("alignment", "m1", "m2", cats) + _rows("quality", "m1", "m3", cats)
    width, height = _png_size(preference_bars(prefs, "m1", "m2"))
    assert width > 600 and height > 500  # two panels, one per question
    bt = [{"question": q, "n": 50, "ranking": [{"model": m, "strength": s, "ci_low": s - 0.05, "ci_high": s + 0.05}
                                                 for m, s in (("m1", 0.5), ("m2", 0.3), ("m3", 0.2))]}
          for q in ("quality", "alignment")]
    assert _png_size(bradley_terry_plot(bt))[1] > 300


def test_report_section_embeds_the_figures(tmp_path, runs):
    from evalkit.human.analysis import AnalysisOptions
    from evalkit.human.report import analyze_db
    from evalkit.human.study import create_study

    from .test_analysis import _simulate

    path = tmp_path / "s.sqlite"
    create_study(path, runs, "abc", ratings_per_task=2, control_rate=0.2, images_per_side=1)
    _simulate(path, ["r1", "r2"], lambda view, rng: view.task.run_a)
    html = render_result_html(analyze_db(path, options=AnalysisOptions(resamples=20)))
    images = re.findall(r'<img class="plot" alt="([^"]+)" src="data:image/png;base64,([^"]+)"', html)
    assert [alt for alt, _ in images] == ["Preference rates per category, model-a vs model-b",
                                          "Preference rates per category, model-a vs model-c",
                                          "Preference rates per category, model-b vs model-c", "Bradley–Terry strengths"]
    for _, data in images:
        _png_size(base64.b64decode(data))
