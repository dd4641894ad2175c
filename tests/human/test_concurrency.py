"""20 raters voting at once through the storage layer (4 processes x 5 threads, as the app
serves sessions from threads and a lab may run several servers): every vote is stored
exactly once, double submits change nothing, nothing is lost."""

from __future__ import annotations

import multiprocessing
import threading

from evalkit.human import db
from evalkit.human.queue import next_task
from evalkit.human.study import create_study
from evalkit.human.votes import submit_vote

from .conftest import make_run

RATERS, TASKS, PROCESSES = 20, 50, 4


def _rater(path: str, rater: str, barrier, out: list) -> None:
    conn = db.connect(path)
    study = db.get_study(conn)
    barrier.wait()
    stored = duplicates = 0
    while (task := next_task(conn, study, rater)) is not None:
        answer = ("A", "tie", "B")[task.id % 3]
        token = f"{rater}:{task.id}"
        stored += submit_vote(conn, task.id, rater, answer, answer, token).stored
        duplicates += not submit_vote(conn, task.id, rater, answer, answer, token).stored  # double click
        duplicates += not submit_vote(conn, task.id, rater, "B", "B", token + ":reload").stored  # reload + resend
    conn.close()
    out.append((rater, stored, duplicates))


def _process(path: str, raters: list[str], start, queue) -> None:
    barrier = threading.Barrier(len(raters))
    out: list = []
    start.wait()
    threads = [threading.Thread(target=_rater, args=(path, r, barrier, out)) for r in raters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put(out)


def test_twenty_raters_fifty_votes_each(tmp_path):
    prompts = [(f"p-{n:03d}", f"prompt {n}", f"cat-{n % 5}") for n in range(TASKS)]
    runs = [make_run(tmp_path, name, prompts=prompts, images=1, size=16) for name in ("model-a", "model-b")]
    path = str(tmp_path / "s.sqlite")
    create_study(path, runs, "load", ratings_per_task=RATERS, control_rate=0)

    ctx = multiprocessing.get_context("spawn")
    start, queue = ctx.Event(), ctx.Queue()
    names = [f"rater-{n:02d}" for n in range(RATERS)]
    procs = [ctx.Process(target=_process, args=(path, names[k::PROCESSES], start, queue)) for k in range(PROCESSES)]
    for p in procs:
        p.start()
    start.set()
    results = [row for _ in procs for row in queue.get(timeout=120)]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0

    assert sorted(r for r, _, _ in results) == names
    assert all(stored == TASKS and dup == 2 * TASKS for _, stored, dup in results)
    conn = db.connect(path)
    assert conn.execute("SELECT count(*) FROM votes").fetchone()[0] == RATERS * TASKS
    assert conn.execute("SELECT count(DISTINCT task_id || '/' || rater_id) FROM votes").fetchone()[0] == RATERS * TASKS
    per_task = {r[0] for r in conn.execute("SELECT count(*) FROM votes GROUP BY task_id")}
    assert per_task == {RATERS}
    # every stored answer is the first one sent, never the resend
    assert conn.execute("SELECT count(*) FROM votes WHERE submission_token LIKE '%:reload'").fetchone()[0] == 0
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
