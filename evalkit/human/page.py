"""The rating page's HTML, as pure functions of plain values (no Streamlit here). Every piece
of user text (captions, ids, messages) is HTML-escaped and shown literally: nothing goes
through Markdown, so `:red[...]`, `:smile:` or `[link](...)` stay as typed.

What the page may carry is deliberately little: an assignment's opaque token (in the image
URLs and widget keys), the caption, the image count, and the on-screen set names. No task
id, run name, file name or study name ever reaches the browser, and a control task's page
is built exactly like a regular one's."""

from __future__ import annotations

import html
import math
from functools import lru_cache
from importlib import resources

CHOICES = {"A": "I prefer set A", "tie": "I am indifferent", "B": "I prefer set B"}
QUALITY = "Which set of images is of higher quality?"
ALIGNMENT = "Which set of images better represents the text caption: {caption}?"
ALIGNMENT_LABEL = "Which set of images better represents the text caption?"  # the widget's accessible name
KEYS_HELP = ("Click an image (or Tab to it, then Enter) to see it at full size: there F flips to the other set's "
             "image at the same place, ←/→ step through the set, Z fits it to the screen, Esc closes. "
             "Answers: ←/→ change the choice, Tab moves on to the next question and Submit, Enter sends.")
GENERIC_ERROR = "Something went wrong on our side. Please reload the page; your answers so far are saved."
# Columns per set for n images, chosen so the largest thumbnails fit a 1280x800 screen
# beside the questions (8 images: 4 x 2, as in Imagen's study).
COLUMNS = {1: 1, 2: 2, 3: 3, 4: 2, 5: 3, 6: 3, 7: 4, 8: 4}


@lru_cache(maxsize=None)
def asset(name: str) -> str:
    return resources.files("evalkit.human").joinpath(f"assets/{name}").read_text(encoding="utf-8")


def style() -> str:
    """The page's CSS, as a <style> block for st.html."""
    return f"<style>{asset('app.css')}</style>"


def text(value: str) -> str:
    return html.escape(str(value), quote=True)


def image_url(token: str, side: str, index: int) -> str:
    """Relative, so the app also works under a path prefix. Unique per rater's view of a task."""
    return f"img/{token}/{side}{index}"


def _set(token: str, side: str, n: int) -> str:
    thumbs = "".join(
        f'<button type="button" class="ek-thumb" data-side="{side}" data-i="{i}" '
        f'aria-label="Set {side}, image {i + 1} of {n}: show at full size">'
        f'<img src="{image_url(token, side, i)}" alt="Set {side}, image {i + 1}" draggable="false"></button>'
        for i in range(n))
    return f'<section class="ek-set" data-side="{side}"><h3>Set {side}</h3><div class="ek-grid">{thumbs}</div></section>'


def task_html(token: str, caption: str, n_images: int) -> str:
    """Caption and the two sets (thumbnails scaled by the browser from the original files;
    a click shows one at native resolution), with the viewer and focus script."""
    cols = COLUMNS[n_images]
    rows = math.ceil(n_images / cols)
    return (f'<div class="ek-task" data-view="{text(token)}" style="--cols:{cols};--rows:{rows};--pcols:{min(n_images, 4)}">'
            f'<p class="ek-caption"><span class="ek-label">Caption:</span> {text(caption)}</p>'
            f'<div class="ek-sets">{_set(text(token), "A", n_images)}{_set(text(token), "B", n_images)}</div></div>'
            f"<script>{asset('viewer.js')}</script>")


def question_html(label: str) -> str:
    return f'<p class="ek-question">{text(label)}</p>'


def progress_html(done: int, total: int, practice: bool) -> str:
    if practice:
        return '<div class="ek-progress"><span>Practice task: not counted</span></div>'
    share = 100.0 * min(1.0, done / total) if total else 100.0
    return (f'<div class="ek-progress" role="progressbar" aria-valuemin="0" aria-valuemax="{total}" '
            f'aria-valuenow="{done}"><span>{done} of {total} tasks done</span>'
            f'<div class="ek-bar"><div style="width:{share:.1f}%"></div></div></div>')


def notice_html(kind: str, message: str) -> str:
    """A message box (kind: info, success, warning, error) showing `message` literally."""
    role = "alert" if kind in ("warning", "error") else "status"
    return f'<div class="ek-notice ek-{text(kind)}" role="{role}">{text(message)}</div>'


def completion_html(code: str | None, url: str | None) -> str:
    """The end of a crowd session: the completion code and the way back to the platform."""
    parts = ['<div class="ek-done"><p>Thank you, you are done.</p>']
    if code:
        parts.append(f'<p>Your completion code: <code class="ek-code">{text(code)}</code></p>')
    if url:
        parts.append(f'<p><a class="ek-return" href="{text(url)}" rel="noopener noreferrer">Return to the study '
                     "platform to finish</a></p>")
    return "".join(parts) + "</div>"
