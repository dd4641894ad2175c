"""Image files for the rating page, by opaque per-view URLs: `img/<token>/<slot>`, where the
token names one rater's view of one task (an assignment) and the slot an on-screen place
(`A0`..`B7`). The response is the run's file itself, byte for byte (never resized or
re-encoded: image quality is what is rated), with no file name, date or ETag that could
tell a control's images from a model's."""

from __future__ import annotations

import re
import threading
from pathlib import Path

from evalkit.human import db

MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}
HEADERS = {"Cache-Control": "private, max-age=86400, immutable", "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "no-referrer"}
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_SLOT = re.compile(r"^([AB])([0-9])$")
_SIDES: dict[tuple[str, str, str], dict] = {}  # a view's files never change: cached once found
_GUARD = threading.Lock()


def view_files(target: str, study_name: str, token: str) -> dict | None:
    """{"A": files, "B": files} of the view `token` names, or None."""
    key = (target, study_name, token)
    with _GUARD:
        if key in _SIDES:
            return _SIDES[key]
    with db.connect(target) as store:
        assignment = db.get_assignment(store, db.get_study(store, study_name), token)
    if assignment is None:
        return None
    with _GUARD:
        if len(_SIDES) > 100_000:
            _SIDES.clear()
        _SIDES[key] = assignment.sides
    return assignment.sides


def image_file(target: str, study_name: str, token: str, slot: str) -> Path | None:
    match = _SLOT.match(slot)
    if not match or not _TOKEN.match(token):
        return None
    files = (view_files(target, study_name, token) or {}).get(match[1], ())
    index = int(match[2])
    return Path(files[index]) if index < len(files) else None


def _read(target: str, study_name: str, token: str, slot: str) -> tuple[bytes, str] | None:
    path = image_file(target, study_name, token, slot)
    try:
        return (path.read_bytes(), MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")) if path else None
    except OSError:
        return None


async def image_route(request):
    """Starlette endpoint for `/img/{token}/{slot}`."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import Response

    from evalkit.human.serve import AppConfig

    config = AppConfig.from_env()
    found = await run_in_threadpool(_read, config.target, config.study, request.path_params["token"],
                                    request.path_params["slot"])
    if found is None:
        return Response(status_code=404, headers={"Cache-Control": "no-store"})
    return Response(found[0], media_type=found[1], headers=HEADERS)
