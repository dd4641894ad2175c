"""20 raters voting at once through the storage layer (4 processes x 5 threads, as the app
serves sessions from threads and a lab may run several servers), on SQLite and on
PostgreSQL: every vote is stored exactly once, double submits change nothing, nothing is
lost, no task goes over its cap. (tests/human/test_load.py does the same with 20 browsers.)"""

from __future__ import annotations

import multiprocessing
import threading

import pytest

from evalkit.human import db
from evalkit.human.queue import next_assignment
from evalkit.human.study import create_study
from evalkit.human.votes import submit_vote

from .conftest import make_run

RATERS, TASKS, PROCESSES = 20, 50, 4


def _rater(target: str, rater: str, barrier, out: list) -> None:
    store = db.connect(target)
    study = db.get_study(store)
    barrier.wait()
    stored = duplicates = 0
    while (view := next_assignment(store, study, rater)) is not None:
        answer = ("A", "tie", "B")[view.task.id % 3]
        stored += submit_vote(store, study, view.token, answer, answer, rater).stored
        duplicates += not submit_vote(store, study, view.token, answer, answer, rater).stored  # double click
        duplicates += not submit_vote(store, study, view.token, "B" if answer != "B" else "A", "B", rater).stored  # resend
    store.close()
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


@pytest.mark.slow
def test_twenty_raters_fifty_votes_each(target, tmp_path):
    prompts = [(f"p-{n:03d}", f"prompt {n}", f"cat-{n % 5}") for n in range(TASKS)]
    runs = [make_run(tmp_path, name, prompts=prompts, images=1, size=16) for name in ("model-a", "model-b")]
    path = target
    create_study(path, runs, "load", ratings_per_task=RATERS - 2, control_rate=0)  # a cap below the raters

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
    total = sum(stored for _, stored, _ in results)
    assert total == (RATERS - 2) * TASKS  # every slot filled, none twice
    assert all(dup == 2 * stored for _, stored, dup in results)
    store = db.connect(path)
    assert store.scalar("SELECT count(*) FROM votes") == total
    assert store.scalar("SELECT count(*) FROM (SELECT DISTINCT task_id, rater_id FROM votes) AS pairs") == total
    per_task = {r["n"] for r in store.query("SELECT count(*) AS n FROM votes GROUP BY task_id")}
    assert per_task == {RATERS - 2}  # the cap holds under contention
    # every stored answer is the first one sent, never the resend
    firsts = store.query("SELECT task_id, quality FROM votes")
    assert all(r["quality"] == ("A", "tie", "B")[r["task_id"] % 3] for r in firsts)
    if store.dialect == "sqlite":
        assert store.scalar("PRAGMA integrity_check") == "ok"
    store.close()
