"""The rating app (Streamlit UI only; the logic lives in queue.py, votes.py and admin.py).

Started by `evalkit human serve`, which passes the database as `-- --db PATH` (or the
EVALKIT_HUMAN_DB variable), the study as EVALKIT_HUMAN_STUDY (or `?study=` in the URL) and
the admin token as EVALKIT_HUMAN_ADMIN_TOKEN. A rater arrives with `?rater=ID` or types
their id; the id is then kept in the URL, so a reload resumes their queue. Admins open
`?admin` and enter the token.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import uuid

import streamlit as st

from evalkit.errors import UserError
from evalkit.human import admin, db
from evalkit.human.queue import check_rater, held_by_others, next_task, progress
from evalkit.human.votes import submit_vote

CHOICES = {"A": "I prefer set A", "tie": "I am indifferent", "B": "I prefer set B"}
QUALITY = "Which set of images is of higher quality?"
ALIGNMENT = "Which set of images better represents the text caption: {caption}?"
KEYS_HELP = ("Keyboard: the first question has focus when a task opens. **←/→** change the answer, **Space** "
             "picks the focused one, **Tab** goes to the next question and then to *Submit*, **Enter** sends it.")
# On a newly shown task: scroll back to the caption (the page stays scrolled down at the previous Submit
# otherwise) and put the keyboard focus on the first answer. Our own constant code, no user input.
AUTOFOCUS = """<script>/* task {task_id} */
(function focusFirst(tries) {{
  const radio = document.querySelector('div[role="radiogroup"] input[type="radio"]');
  if (!radio) {{ if (tries > 0) setTimeout(() => focusFirst(tries - 1), 50); return; }}
  radio.focus({{preventScroll: true}});
  for (const el of [document.querySelector('[data-testid="stMain"]'), document.scrollingElement]) {{
    if (el) el.scrollTo(0, 0);
  }}
}})(40);
</script>"""


def _config() -> tuple[str | None, str | None, str | None]:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db")
    parser.add_argument("--study")
    args, _ = parser.parse_known_args(sys.argv[1:])
    return (args.db or os.environ.get("EVALKIT_HUMAN_DB"),
            st.query_params.get("study") or args.study or os.environ.get("EVALKIT_HUMAN_STUDY"),
            os.environ.get("EVALKIT_HUMAN_ADMIN_TOKEN"))


def _md(text: str) -> str:
    """Show user text literally inside Streamlit markdown."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$])", r"\\\1", text)


def _on_submit(db_path: str, task_id: int, rater_id: str, token: str) -> None:
    """Runs before the rerun the click causes, with the task the rater actually saw."""
    quality, alignment = st.session_state.get(f"q-{task_id}"), st.session_state.get(f"a-{task_id}")
    if quality is None or alignment is None:
        st.session_state["flash"] = ("warning", "Please answer both questions, then submit.")
        return
    try:
        conn = db.connect(db_path)
        try:
            result = submit_vote(conn, task_id, rater_id, quality, alignment, token)
        finally:
            conn.close()
    except UserError as err:
        st.session_state["flash"] = ("error", str(err))
        return
    st.session_state["flash"] = ("success", "Saved." if result.stored
                                 else "Already saved; your first answer stands.")


def _sign_in(study: db.Study) -> str | None:
    given = st.query_params.get("rater")
    if given:
        try:
            return check_rater(study, given)
        except UserError as err:
            st.error(str(err))
    st.title("Image preference study")
    with st.form("sign-in"):
        rater = st.text_input("Your rater id", placeholder="e.g. alice", help="Letters, digits, '.', '_', '-' or '@'")
        if st.form_submit_button("Start rating", type="primary"):
            try:
                st.query_params["rater"] = check_rater(study, rater)
                st.rerun()
            except UserError as err:
                st.error(str(err))
    return None


def _images(column, title: str, images: tuple[str, ...]) -> None:
    column.subheader(title)
    width = 240 if len(images) <= 4 else 170  # 2 per row up to 4 images, 3 per row up to 8 (half a 1280 px screen)
    column.image(list(images), width=width, output_format="PNG")  # never re-encode lossily: quality is rated


def _rate(conn, db_path: str, study: db.Study, rater: str) -> None:
    task = next_task(conn, study, rater)
    done = progress(conn, study, rater)
    with st.sidebar:
        if st.button("Not you? Change rater"):
            del st.query_params["rater"]
            st.rerun()
    st.progress(min(1.0, done.done / max(done.total, 1)),
                text=f"Rater {_md(rater)}: {done.done} of {done.total} tasks done")
    kind, message = st.session_state.pop("flash", (None, None))
    if kind:
        getattr(st, kind)(message)
    if task is None:
        if held_by_others(conn, study, rater):
            st.info("No task is free right now: other raters hold the remaining ones. Please come back in a few "
                    "minutes (reload this page).")
        else:
            st.success("All done: you have rated every task open to you. Thank you!")
        return
    st.markdown(f"#### Caption: {_md(task.caption)}")
    left, right = st.columns(2, gap="large")
    _images(left, "Set A", task.left_images)
    _images(right, "Set B", task.right_images)
    token = st.session_state.setdefault(f"token-{task.id}", uuid.uuid4().hex)  # one per task shown
    with st.form(f"task-{task.id}"):
        alignment = ALIGNMENT.format(caption=task.caption.rstrip("."))
        for key, label in ((f"q-{task.id}", QUALITY), (f"a-{task.id}", alignment)):
            st.radio(_md(label), options=list(CHOICES), format_func=CHOICES.get, index=None, horizontal=True, key=key)
        st.form_submit_button("Submit", type="primary", on_click=_on_submit, args=(db_path, task.id, rater, token))
    st.caption(KEYS_HELP)
    st.html(AUTOFOCUS.format(task_id=int(task.id)), unsafe_allow_javascript=True)


def _admin(conn, study: db.Study, token: str | None) -> None:
    st.title(f"Study {study.name}: admin")
    if not token:
        st.error("The admin view is off: start the app with an admin token (`evalkit human serve --admin-token`).")
        return
    given = st.text_input("Admin token", type="password")
    if not admin.token_ok(given, token):
        if given:
            st.error("Wrong token.")
        return
    o = admin.overview(conn, study)
    st.progress(min(1.0, o["regular_votes"] / max(o["target_votes"], 1)),
                text=f"{o['regular_votes']} of {o['target_votes']} ratings ({o['ratings_per_task']} per task)")
    cols = st.columns(4)
    cols[0].metric("votes", o["votes"])
    cols[1].metric("tasks fully rated", f"{o['tasks_complete']} / {o['regular_tasks']}")
    cols[2].metric("control tasks", o["control_tasks"])
    cols[3].metric("raters", len(o["raters"]))
    st.write("Models: " + ", ".join(f"`{m}`" for m in o["models"]))
    if o["raters"]:
        st.dataframe(o["raters"], hide_index=True)


def main() -> None:
    st.set_page_config(page_title="Image preference study", layout="wide", initial_sidebar_state="collapsed")
    db_path, study_name, token = _config()
    if not db_path:
        st.error("No study database given: start the app with `evalkit human serve --db PATH`.")
        return
    try:
        conn = db.connect(db_path)
    except UserError as err:
        st.error(str(err))
        return
    try:
        study = db.get_study(conn, study_name)
        if "admin" in st.query_params:
            _admin(conn, study, token)
        elif (rater := _sign_in(study)) is not None:
            _rate(conn, db_path, study, rater)
    except UserError as err:
        st.error(str(err))
    finally:
        conn.close()


if __name__ == "__main__":
    main()
