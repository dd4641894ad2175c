"""The rating app: the Streamlit script that asgi.py serves (`evalkit human serve`).

Configuration comes from the environment (serve.AppConfig): the database, the one study
this server serves (pinned: `?study=` cannot switch it) and the admin token. Who rates is
decided by the study's access mode (access.py): a typed or `?rater=` id in open studies, a
signed invitation link, or a crowd platform's participant id. A rater then agrees to the
instructions once, does the practice task if there is one, and rates their queue; admins
open `?admin` and give the token. No traceback or server path ever reaches the page.
"""

from __future__ import annotations

import logging

import streamlit as st

from evalkit.errors import UserError
from evalkit.human import db, page, views
from evalkit.human.access import Preview, identify
from evalkit.human.raters import join
from evalkit.human.serve import AppConfig
from evalkit.human.store import Store

LOG = logging.getLogger("evalkit.human")


UNAVAILABLE = "This study is not available right now. Please try again later."


def _route(store: Store, study: db.Study, config: AppConfig) -> None:
    if st.query_params.get("study") not in (None, study.name):
        raise UserError("this link is for a study this server does not run; check the link you were given")
    if "admin" in st.query_params:
        views.admin_view(store, study, config.admin_token)
        return
    params = {key: st.query_params.get(key) for key in st.query_params}
    try:
        identity = identify(study, params)
    except Preview as preview:
        views.notice("info", str(preview))
        views.instructions(None, study, None)
        return
    if identity is None:
        views.sign_in(study)
    elif not join(store, study, identity).consented:
        views.instructions(store, study, identity)
    else:
        views.rate(store, config.target, study, identity)


def main() -> None:
    st.set_page_config(page_title=views.TITLE, layout="wide", initial_sidebar_state="collapsed")
    st.html(page.style())
    config = AppConfig.from_env()
    store = None
    try:
        store = db.connect(config.target or "")
        study = db.get_study(store, config.study)
    except Exception as err:  # noqa: BLE001 - the server's set-up, not the rater's doing: logged, not shown
        LOG.error("rating app cannot open its study: %s", err)
        views.notice("error", UNAVAILABLE)
        if store is not None:
            store.close()
        return
    try:
        _route(store, study, config)
    except UserError as err:
        views.notice("error", str(err))
    except Exception:  # noqa: BLE001 - logged on the server; the rater gets one plain sentence
        LOG.exception("rating app error")
        views.notice("error", page.GENERIC_ERROR)
    finally:
        store.close()


if __name__ == "__main__":
    main()
