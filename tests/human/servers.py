"""Real rating-app servers and a real browser for the end-to-end tests: `evalkit human
serve`'s own entry point in child processes on free loopback ports (it execs Streamlit, so
terminate() reaches the server), and Debian's headless Chromium driven by Playwright (its
bundled driver, no browser download)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from .conftest import need

CHROMIUM = os.environ.get("EVALKIT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ADMIN_TOKEN = "tok-admin"
_SERVE = ("import sys; from evalkit.human.serve import serve; "
          "serve(sys.argv[1], int(sys.argv[2]), study=sys.argv[3] or None, admin_token=sys.argv[4])")


def need_browser() -> None:
    need(Path(CHROMIUM).is_file() or shutil.which(CHROMIUM) is not None,
         f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
    try:
        import playwright  # noqa: F401
    except ImportError:
        need(False, "the playwright package is not installed: pip install playwright")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the rating app did not start: {log.read_text()[-2000:]}")
        time.sleep(0.2)


@contextmanager
def serving(target, log_dir: Path, study: str | None = None, replicas: int = 1):
    """`replicas` app servers for the study at `target`; yields their base URLs; always stopped."""
    procs, urls = [], []
    try:
        for k in range(replicas):
            port, log = free_port(), log_dir / f"streamlit-{k}.log"
            out = open(log, "wb")
            proc = subprocess.Popen([sys.executable, "-c", _SERVE, str(target), str(port), study or "", ADMIN_TOKEN],
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            procs.append((proc, out, log))
            urls.append(f"http://127.0.0.1:{port}")
        for url, (proc, _, log) in zip(urls, procs):
            _wait_healthy(url, proc, log)
        yield urls
    finally:
        for proc, out, _ in procs:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            out.close()


def shots_dir(tmp_path: Path) -> Path:
    """Where screenshots go: $EVALKIT_SCREENSHOTS when set (kept), else the test's tmp folder."""
    shots = Path(os.environ.get("EVALKIT_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    return shots


# True once the page shows a view other than `prev`: its questions rendered, the focus on the
# first answer (unless `anyFocus`: after a double click the second click may hold it), and every
# image loaded. The view's token is read back with VIEW_TOKEN_JS.
VIEW_READY_JS = """([prev, anyFocus]) => {
  const tasks = document.querySelectorAll('.ek-task');
  if (!tasks.length) return false;
  const view = tasks[tasks.length - 1].dataset.view;
  if (!view || view === prev) return false;
  const first = document.querySelector('.st-key-q-' + CSS.escape(view) + ' input[type="radio"]');
  const images = Array.from(tasks[tasks.length - 1].querySelectorAll('img'));
  return !!first && (anyFocus || document.activeElement === first) && images.every((i) => i.complete && i.naturalWidth > 0);
}"""
VIEW_TOKEN_JS = "() => { const t = document.querySelectorAll('.ek-task'); return t[t.length - 1].dataset.view; }"
LABELS = {"A": "I prefer set A", "tie": "I am indifferent", "B": "I prefer set B"}
CONSENT = "I have read the instructions and agree to take part in this study."
