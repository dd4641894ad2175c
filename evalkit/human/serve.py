"""Launch the rating app: `streamlit run asgi.py` in the same process (exec), headless.

asgi.py is Streamlit's ASGI app (st.App) around the rating script app.py, plus the route
that serves image files by opaque per-view URLs (images.py). The database, the pinned study
and the admin token reach it through the environment (never the command line, where a
PostgreSQL password would show in `ps`). Several replicas may serve one PostgreSQL study."""

from __future__ import annotations

import importlib.util
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from evalkit.errors import UserError
from evalkit.human.store import is_postgres

APP = Path(__file__).with_name("app.py")
ASGI = Path(__file__).with_name("asgi.py")
ENV_DB, ENV_STUDY, ENV_TOKEN = "EVALKIT_HUMAN_DB", "EVALKIT_HUMAN_STUDY", "EVALKIT_HUMAN_ADMIN_TOKEN"


@dataclass(frozen=True)
class AppConfig:
    target: str | None       # SQLite path or postgresql:// URL
    study: str | None        # the study this server serves (pinned by `serve`)
    admin_token: str | None  # None: no admin view

    @classmethod
    def from_env(cls) -> AppConfig:
        return cls(os.environ.get(ENV_DB) or None, os.environ.get(ENV_STUDY) or None,
                   os.environ.get(ENV_TOKEN) or None)


def resolve_target(target) -> str:
    target = str(target)
    return target if is_postgres(target) else str(Path(target).resolve())


def streamlit_command(port: int, address: str) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(ASGI),
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", address,
        "--server.fileWatcherType", "none",     # a study server does not hot-reload code
        "--browser.gatherUsageStats", "false",  # no telemetry calls out
        "--client.toolbarMode", "minimal",
        "--client.showErrorDetails", "none",    # never a traceback or a server path on a rater's page
        "--theme.base", "light",
    ]


def serve_env(target, study: str, admin_token: str) -> dict[str, str]:
    return dict(os.environ, **{ENV_DB: resolve_target(target), ENV_STUDY: study, ENV_TOKEN: admin_token})


def rater_url(access: str, base: str) -> str:
    """What the organiser hands out, by access mode."""
    return {
        "open": f"{base}/?rater=RATER_ID",
        "invite": f"personal links from `evalkit human invite --url {base}`",
        "prolific": f"{base}/?PROLIFIC_PID={{{{%PROLIFIC_PID%}}}}&STUDY_ID={{{{%STUDY_ID%}}}}&SESSION_ID={{{{%SESSION_ID%}}}}",
        "mturk": f"{base}/ (as an ExternalQuestion URL; MTurk adds workerId, assignmentId, hitId, turkSubmitTo)",
    }[access]


def serve(target, port: int = 8501, address: str = "127.0.0.1", study: str | None = None,
          admin_token: str | None = None) -> int:
    """Run the app until stopped, pinned to one study (the only one, or `study`); the admin
    token is generated when not given. The process becomes the Streamlit server (exec), so
    a SIGTERM or Ctrl-C reaches the server itself and never leaves an orphan behind."""
    from evalkit.human import db

    with db.connect(target) as store:  # fail here, with a clear message, not in the browser
        pinned = db.get_study(store, study)
    if importlib.util.find_spec("streamlit") is None:
        raise UserError("the rating app needs streamlit: pip install 'evalkit[human]'")
    token = admin_token or os.environ.get(ENV_TOKEN) or secrets.token_urlsafe(16)
    base = f"http://{address}:{port}"
    print(f"study {pinned.name} ({pinned.access} access); raters: {rater_url(pinned.access, base)}")
    print(f"admin view: {base}/?admin  (token: {token})", flush=True)
    cmd = streamlit_command(port, address)
    os.execvpe(cmd[0], cmd, serve_env(target, pinned.name, token))
    return 0  # not reached
