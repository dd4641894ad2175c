"""The server `evalkit human serve` runs (`streamlit run asgi.py`): Streamlit's ASGI app
around the rating script (app.py) with one route of our own, the image files by opaque
per-view URLs (images.py). Any error a page run raises is logged here on the server and
shown to the rater as one plain sentence: never a traceback, never a server path."""

from __future__ import annotations

import logging

import streamlit as st
from starlette.routing import Route

from evalkit.human.images import image_route
from evalkit.human.page import GENERIC_ERROR, notice_html, style
from evalkit.human.serve import APP

LOG = logging.getLogger("evalkit.human")


def _on_script_error(exc: Exception) -> bool:
    LOG.error("rating app error", exc_info=exc)
    st.html(style() + notice_html("error", GENERIC_ERROR))
    return True  # the rater sees only the sentence above


app = st.App(str(APP), routes=[Route("/img/{token}/{slot}", image_route)], on_script_error=_on_script_error)
