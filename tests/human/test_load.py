"""20 raters at once in real browsers (one headless Chromium, 20 contexts, driven
concurrently), against one app server on SQLite and against two app replicas sharing one
PostgreSQL database: every vote is stored exactly once, no task goes over its cap, and the
submit-to-next-task latency (Submit clicked until the next task's questions are on screen
with all its images loaded) is measured; median and p95 are printed and, with
EVALKIT_SCREENSHOTS=DIR, written to DIR/latency-<backend>.json with a screenshot."""

from __future__ import annotations

import asyncio
import json
import os
import time

import numpy as np
import pytest

from evalkit.human import db
from evalkit.human.study import create_study

from .conftest import make_run
from .servers import CHROMIUM, CHROMIUM_ARGS, CONSENT, LABELS, VIEW_READY_JS, VIEW_TOKEN_JS, need_browser, serving, \
    shots_dir

RATERS, TASKS_PER_RATER, CAP = 20, 3, 4
WAIT_MS = 180_000  # a loaded 2-core machine with 20 browsers is slow; a real failure still times out


async def _rate(browser, url: str, rater: str, shot) -> tuple[int, list[float]]:
    """One rater through consent and their whole queue; (submits, latencies in seconds)."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    await page.goto(f"{url}/?rater={rater}")
    await page.get_by_text(CONSENT).click()
    await page.get_by_role("button", name="Start").click()
    await page.wait_for_function(VIEW_READY_JS, arg=[None, False], timeout=WAIT_MS)
    token, submits, latencies = await page.evaluate(VIEW_TOKEN_JS), 0, []
    while token is not None:
        groups = page.get_by_role("radiogroup")
        await groups.nth(0).get_by_text(LABELS["AB"[submits % 2]]).click()
        await groups.nth(1).get_by_text(LABELS["tie"]).click()
        started = time.perf_counter()
        await page.get_by_role("button", name="Submit").click()
        submits += 1
        done = page.get_by_text("All done")
        next_view = asyncio.ensure_future(page.wait_for_function(VIEW_READY_JS, arg=[token, False], timeout=WAIT_MS))
        finished = asyncio.ensure_future(done.wait_for(timeout=WAIT_MS))
        first, pending = await asyncio.wait({next_view, finished}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        first.pop().result()  # raises on a timeout
        if next_view.done() and not next_view.cancelled():
            latencies.append(time.perf_counter() - started)
            token = await page.evaluate(VIEW_TOKEN_JS)
            if shot is not None and submits == 2:
                await page.screenshot(path=shot)
        else:
            token = None
    await context.close()
    return submits, latencies


async def _crowd(urls: list[str], shot) -> list[tuple[int, list[float]]]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            return await asyncio.gather(*(_rate(browser, urls[n % len(urls)], f"rater-{n:02d}", shot if n == 0 else None)
                                          for n in range(RATERS)))
        finally:
            await browser.close()


@pytest.mark.slow
@pytest.mark.parametrize("backend, replicas", [("sqlite", 1), ("postgres", 2)])
def test_twenty_browser_raters_at_once(backend, replicas, request, tmp_path):
    need_browser()
    target = str(tmp_path / "load.sqlite") if backend == "sqlite" else request.getfixturevalue("pg_cluster").new_database()
    prompts = [(f"p-{n:02d}", f"Prompt {n}: a scene with {n} things.", f"cat-{n % 4}") for n in range(30)]
    runs = [make_run(tmp_path / "runs", m, prompts=prompts, images=4, size=256) for m in ("model-a", "model-b")]
    create_study(target, runs, "load", ratings_per_task=CAP, control_rate=0.1, tasks_per_rater=TASKS_PER_RATER,
                 controls_dir=str(tmp_path / "controls"))
    shots = shots_dir(tmp_path)
    with serving(target, tmp_path, replicas=replicas) as urls:
        results = asyncio.run(_crowd(urls, shots / f"human-load-{backend}.png"))
    submits = sum(n for n, _ in results)
    latencies = np.array([s for _, lat in results for s in lat])
    with db.connect(target) as store:
        assert store.scalar("SELECT count(*) FROM votes") == submits  # every vote stored, exactly once
        assert store.scalar("SELECT count(*) FROM (SELECT DISTINCT task_id, rater_id FROM votes) AS p") == submits
        assert store.scalar("SELECT count(*) FROM assignments a WHERE NOT EXISTS "
                            "(SELECT 1 FROM votes v WHERE v.assignment_id = a.id)") == 0  # nothing left hanging
        per_task = store.query("SELECT count(*) AS n FROM votes v JOIN tasks t ON t.id = v.task_id "
                               "WHERE t.kind = 'regular' GROUP BY v.task_id")
        assert max(r["n"] for r in per_task) <= CAP and sum(r["n"] for r in per_task) == RATERS * TASKS_PER_RATER
    if backend == "postgres":
        from evalkit.human.store_postgres import close_pools

        close_pools(target)
    summary = {"backend": backend, "replicas": replicas, "raters": RATERS, "votes": submits,
               "median_s": float(np.median(latencies)), "p95_s": float(np.percentile(latencies, 95)),
               "max_s": float(latencies.max()), "samples": int(len(latencies))}
    print(f"\nsubmit-to-next-task latency ({backend}, {replicas} replica(s), {RATERS} browsers): {summary}")
    if os.environ.get("EVALKIT_SCREENSHOTS"):
        (shots / f"latency-{backend}.json").write_text(json.dumps(summary, indent=2))
