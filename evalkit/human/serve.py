"""Launch the rating app: `streamlit run app.py` in a child process, headless."""

from __future__ import annotations

import importlib.util
import os
import secrets
import sys
from pathlib import Path

from evalkit.errors import UserError

APP = Path(__file__).with_name("app.py")


def streamlit_command(db_path: str | Path, port: int, address: str) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", address,
        "--server.fileWatcherType", "none",     # a study server does not hot-reload code
        "--browser.gatherUsageStats", "false",  # no telemetry calls out
        "--client.toolbarMode", "minimal",
        "--theme.base", "light",
        "--", "--db", str(Path(db_path).resolve()),
    ]


def serve_env(db_path: str | Path, study: str | None, admin_token: str) -> dict[str, str]:
    env = dict(os.environ, EVALKIT_HUMAN_DB=str(Path(db_path).resolve()), EVALKIT_HUMAN_ADMIN_TOKEN=admin_token)
    if study:
        env["EVALKIT_HUMAN_STUDY"] = study
    return env


def serve(db_path: str | Path, port: int = 8501, address: str = "127.0.0.1", study: str | None = None,
          admin_token: str | None = None) -> int:
    """Run the app until stopped; the admin token is generated when not given. The process
    becomes the Streamlit server (exec), so a SIGTERM or Ctrl-C reaches the server itself
    and never leaves an orphaned server behind."""
    from evalkit.human import db

    conn = db.connect(db_path)  # fail here, with a clear message, not in the browser
    try:
        db.get_study(conn, study)
    finally:
        conn.close()
    if importlib.util.find_spec("streamlit") is None:
        raise UserError("the rating app needs streamlit: pip install streamlit")
    token = admin_token or os.environ.get("EVALKIT_HUMAN_ADMIN_TOKEN") or secrets.token_urlsafe(16)
    print(f"rating app: http://{address}:{port}/?rater=YOUR_ID")
    print(f"admin view: http://{address}:{port}/?admin  (token: {token})", flush=True)
    cmd = streamlit_command(db_path, port, address)
    os.execvpe(cmd[0], cmd, serve_env(db_path, study, token))
    return 0  # not reached
