"""Rendering reports from the template files in templates/ (Jinja2 PackageLoader, so a
wheel install finds them): one base template with the CSS, HTML and Markdown of a report
rendered from the same context object."""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path

from evalkit.results import Estimate
from evalkit.store import atomic_write_text

THUMBNAIL = 128


def fmt(value, digits: int = 4) -> str:
    """A number as reports show it; n/a for missing, NaN or infinite values."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def ci(e: Estimate) -> str:
    """`[low, high]`, or `± std`, or nothing."""
    if e.low is not None and e.high is not None:
        return f"[{fmt(e.low)}, {fmt(e.high)}]"
    return f"± {fmt(e.std)}" if e.std is not None else ""


def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("evalkit.reports", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    env.filters.update(fmt=fmt, ci=ci, md=markdown_cell)
    return env


def markdown_cell(value) -> str:
    """Text safe inside a Markdown table cell (pipes and newlines would break the table)."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def render(template: str, context: object) -> str:
    return _environment().get_template(template).render(r=context)


def write_report(folder: Path, name: str, context: object) -> tuple[Path, Path]:
    """`folder/report.html` and `folder/report.md` from templates `<name>.html.j2` / `<name>.md.j2`."""
    html = atomic_write_text(folder / "report.html", render(f"{name}.html.j2", context))
    md = atomic_write_text(folder / "report.md", render(f"{name}.md.j2", context))
    return html, md


def thumbnail_b64(path: Path, size: int = THUMBNAIL) -> str:
    from PIL import Image

    with Image.open(path) as img:
        img = img.convert("RGB")
        img.thumbnail((size, size))
        buf = io.BytesIO()
        img.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def b64(png: bytes) -> str:
    return base64.b64encode(png).decode() if png else ""
