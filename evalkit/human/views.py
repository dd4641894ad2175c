"""The rating app's screens (Streamlit): sign-in, instructions and consent, a task, the end,
and the admin view. Logic lives in queue.py, votes.py, access.py and admin.py; the HTML in
page.py. All user text goes through page.py's escaping, never through Markdown."""

from __future__ import annotations

import logging
import math

import streamlit as st

from evalkit.errors import UserError
from evalkit.human import admin, db, page
from evalkit.human.access import Identity, completion, identify
from evalkit.human.queue import held_by_others, next_assignment, progress
from evalkit.human.raters import consent
from evalkit.human.store import Store
from evalkit.human.votes import submit_vote

LOG = logging.getLogger("evalkit.human")
TITLE = "Image preference study"
CONSENT = "I have read the instructions and agree to take part in this study."


def notice(kind: str, message: str) -> None:
    st.html(page.notice_html(kind, message))


def sign_in(study: db.Study) -> None:
    st.title(TITLE)
    with st.form("sign-in"):
        rater = st.text_input("Your rater id", placeholder="e.g. alice", help="Letters, digits, '.', '_', '-' or '@'")
        if st.form_submit_button("Start rating", type="primary"):
            try:
                identity = identify(study, {"rater": rater})
            except UserError as err:
                notice("error", str(err))
                return
            if identity is None:
                notice("warning", "Please type your rater id.")
                return
            st.query_params["rater"] = identity.rater_id
            st.rerun()


def instructions(store: Store | None, study: db.Study, identity: Identity | None) -> None:
    """The study's instructions (the organiser's Markdown) and, for a rater, the consent form."""
    st.markdown(study.instructions or page.asset("instructions.md"))
    if identity is None:  # a preview: read only
        return
    with st.form("consent"):
        agreed = st.checkbox(CONSENT)
        if st.form_submit_button("Start", type="primary"):
            if agreed:
                consent(store, study, identity.rater_id)
                st.rerun()
            notice("warning", "Please tick the box to agree before you start.")


def _practice_feedback(assignment: db.Assignment, quality: str, alignment: str) -> str:
    right = assignment.right_answer
    question = assignment.task.control_answer["question"]
    given = quality if question == "quality" else alignment
    what = ("had the sharp images (the other set was blurred on purpose)" if question == "quality"
            else "matched the caption (the other set shows another caption)")
    verdict = "Well done: you picked it." if given == right else "Take a closer look next time."
    return f"Practice done. Set {right} {what}. {verdict} The study starts now."


def _on_submit(target: str, study: db.Study, token: str, rater_id: str) -> None:
    """Runs before the rerun the click causes, with the view the rater actually saw."""
    quality, alignment = st.session_state.get(f"q-{token}"), st.session_state.get(f"a-{token}")
    if quality is None or alignment is None:
        st.session_state["flash"] = ("warning", "Please answer both questions, then submit.")
        return
    try:
        with db.connect(target) as store:
            result = submit_vote(store, study, token, quality, alignment, rater_id)
    except UserError as err:
        st.session_state["flash"] = ("error", str(err))
        return
    except Exception:  # noqa: BLE001 - logged here; the rater gets one plain sentence
        LOG.exception("storing a vote failed")
        st.session_state["flash"] = ("error", page.GENERIC_ERROR)
        return
    if result.assignment.task.kind == "practice":
        st.session_state["flash"] = ("info", _practice_feedback(result.assignment, quality, alignment))
    else:
        st.session_state["flash"] = ("success", "Saved." if result.stored else "Already saved; your first answer stands.")


def _change_rater() -> None:
    for key in list(st.session_state):
        del st.session_state[key]
    st.query_params.clear()


def _task(target: str, study: db.Study, assignment: db.Assignment, identity: Identity) -> None:
    token = assignment.token
    st.html(page.task_html(token, assignment.task.caption, len(assignment.sides["A"])), unsafe_allow_javascript=True)
    alignment = page.ALIGNMENT.format(caption=assignment.task.caption.rstrip("."))
    with st.form(f"f-{token}", border=False, enter_to_submit=False):
        # the question shown is our escaped HTML; the widget's own (hidden, Markdown) label stays constant
        for key, shown, label in ((f"q-{token}", page.QUALITY, page.QUALITY),
                                  (f"a-{token}", alignment, page.ALIGNMENT_LABEL)):
            st.html(page.question_html(shown))
            st.radio(label, options=list(page.CHOICES), format_func=page.CHOICES.get, index=None, horizontal=True,
                     key=key, label_visibility="collapsed")
        st.form_submit_button("Submit", type="primary", on_click=_on_submit,
                              args=(target, study, token, identity.rater_id))
    st.html(f'<p class="ek-help">{page.text(page.KEYS_HELP)}</p>')


def _finished(study: db.Study, identity: Identity, waiting: bool) -> None:
    if waiting:
        notice("info", "No task is free right now: other raters hold the remaining ones. Please come back in a few "
                       "minutes (reload this page).")
        return
    done = completion(study, identity)
    if done.code or done.url:
        st.html(page.completion_html(done.code, done.url))
    else:
        notice("success", "All done: you have rated every task open to you. Thank you!")


def rate(store: Store, target: str, study: db.Study, identity: Identity) -> None:
    assignment = next_assignment(store, study, identity.rater_id)
    shown = progress(store, study, identity.rater_id)
    waiting = assignment is None and held_by_others(store, study, identity.rater_id) > 0
    total = shown.done if assignment is None and not waiting else shown.total  # all done: a full bar, whatever the plan
    st.html(page.progress_html(shown.done, total, shown.practice))
    if (flash := st.session_state.pop("flash", None)) is not None:
        notice(*flash)
    if assignment is None:
        _finished(study, identity, waiting)
    else:
        _task(target, study, assignment, identity)
    if identity.source == "typed":
        st.button("Not you? Change rater", on_click=_change_rater, type="tertiary")


def _client() -> str:
    """The client's address, the throttle's key (behind a proxy: the proxy's, one key for all)."""
    try:
        ip = st.context.ip_address
    except Exception:  # noqa: BLE001 - no request context: one shared key
        ip = None
    return ip if isinstance(ip, str) and ip else "unknown"


def admin_view(store: Store, study: db.Study, token: str | None) -> None:
    """Nothing but a token field until the right token is given; wrong ones are throttled."""
    if not token:
        notice("error", "The admin view is off: start the app with an admin token (`evalkit human serve --admin-token`).")
        return
    client, throttle = _client(), admin.ADMIN_THROTTLE
    if (wait := throttle.wait(client)) > 0:
        notice("error", f"Too many wrong tokens: try again in {math.ceil(wait / 60)} minutes.")
        return
    given = st.text_input("Admin token", type="password")
    if not given:
        return
    if not admin.token_ok(given, token):
        if st.session_state.get("admin-tried") != given:  # count each wrong token once, not every rerun
            st.session_state["admin-tried"] = given
            throttle.fail(client)
        notice("error", "Wrong token.")
        return
    throttle.succeed(client)
    _overview(admin.overview(store, study))


def _overview(o: dict) -> None:
    st.html(f"<h3>Study {page.text(o['study'])} ({page.text(o['access'])} access): progress</h3>")
    st.progress(min(1.0, o["regular_votes"] / max(o["target_votes"], 1)))
    st.text(f"{o['regular_votes']} of {o['target_votes']} ratings ({o['ratings_per_task']} per task)")
    cols = st.columns(4)
    cols[0].metric("votes", o["votes"])
    cols[1].metric("tasks fully rated", f"{o['tasks_complete']} / {o['regular_tasks']}")
    cols[2].metric("control tasks", o["control_tasks"])
    cols[3].metric("raters", len(o["raters"]))
    st.text("Models: " + ", ".join(o["models"]))
    if o["raters"]:
        st.dataframe(o["raters"], hide_index=True)
