"""Who is rating: identity from the page URL, by the study's access mode.

- open:     any valid id (typed in, or `?rater=ID`), limited to `--raters` when given;
- invite:   only signed personal links, `?rater=ID&sig=SIG` with SIG an HMAC-SHA256 of the
            study and the id under the study's server-side secret (`evalkit human invite`);
            a bare `?rater=` is refused;
- prolific: Prolific's `PROLIFIC_PID` (plus STUDY_ID, SESSION_ID) from the study URL;
- mturk:    MTurk's `workerId`, `assignmentId`, `hitId`, `turkSubmitTo` (an external question).

Crowd modes end with a completion code and a way back to the platform (`completion`)."""

from __future__ import annotations

import base64
import hmac
import re
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urlsplit

from evalkit.errors import UserError
from evalkit.human.db import Study
from evalkit.human.keys import mac
from evalkit.human.names import check_rater_id

ACCESS_MODES = ("open", "invite", "prolific", "mturk")
PLATFORM_ID = re.compile(r"^[A-Za-z0-9_-]{1,48}$")
CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MTURK_HOSTS = ("https://www.mturk.com", "https://workersandbox.mturk.com")
MTURK_PREVIEW = "ASSIGNMENT_ID_NOT_AVAILABLE"


class Preview(UserError):
    """An MTurk worker previewing the HIT: show the instructions, not tasks."""


@dataclass(frozen=True)
class Identity:
    rater_id: str
    source: str                                    # typed | invite | prolific | mturk
    external: dict = field(default_factory=dict)   # the platform's ids for this session


@dataclass(frozen=True)
class Completion:
    code: str | None
    url: str | None


def signature(study: Study, rater_id: str) -> str:
    """The `sig` of rater_id's invitation link (128 bits, URL-safe)."""
    return base64.urlsafe_b64encode(mac(study.secret, "invite", study.name, rater_id)[:16]).decode().rstrip("=")


def invite_link(study: Study, base_url: str, rater_id: str) -> str:
    check_rater_id(rater_id)
    return f"{base_url.rstrip('/')}/?rater={quote(rater_id)}&sig={signature(study, rater_id)}"


def _platform_id(params, key: str, where: str) -> str:
    value = str(params.get(key) or "")
    if not PLATFORM_ID.match(value):
        raise UserError(f"this page was opened without a valid {key}; open the study from {where} again")
    return value


def _invited(study: Study, params) -> Identity:
    rater, sig = params.get("rater"), params.get("sig")
    if not rater or not sig:
        raise UserError("this study is by invitation only: open the personal link you were given")
    rater = check_rater_id(str(rater))
    if not hmac.compare_digest(str(sig).encode(), signature(study, rater).encode()):
        raise UserError("this invitation link is not valid; copy the whole link you were given, or ask for a new one")
    return Identity(rater, "invite")


def _open(study: Study, params) -> Identity | None:
    rater = params.get("rater")
    if not rater:
        return None  # ask for an id
    rater = check_rater_id(str(rater))
    if study.raters is not None and rater not in study.raters:
        raise UserError(f"rater id {rater!r} is not on this study's list of raters; check the id you were given")
    return Identity(rater, "typed")


def identify(study: Study, params) -> Identity | None:
    """The rater these URL parameters name; None in open mode without an id (ask for one);
    a UserError (one line, shown literally) when the link is not good for this study."""
    if study.access == "open":
        return _open(study, params)
    if study.access == "invite":
        return _invited(study, params)
    if study.access == "prolific":
        pid = _platform_id(params, "PROLIFIC_PID", "Prolific")
        external = {k: str(params[k]) for k in ("STUDY_ID", "SESSION_ID") if PLATFORM_ID.match(str(params.get(k, "")))}
        return Identity(f"prolific-{pid}", "prolific", external)
    if str(params.get("assignmentId", "")) == MTURK_PREVIEW:
        raise Preview("preview: accept the HIT to start rating")
    worker = _platform_id(params, "workerId", "Amazon Mechanical Turk")
    external = {"assignmentId": _platform_id(params, "assignmentId", "Amazon Mechanical Turk")}
    if PLATFORM_ID.match(str(params.get("hitId", ""))):
        external["hitId"] = str(params["hitId"])
    host = str(params.get("turkSubmitTo", "")).rstrip("/")
    external["turkSubmitTo"] = host if host in MTURK_HOSTS else MTURK_HOSTS[0]
    return Identity(f"mturk-{worker}", "mturk", external)


def check_completion(access: str, code: str | None, url: str | None) -> None:
    """At `create`: a completion code a platform can check, a return URL that is http(s)."""
    if code is not None and not CODE.match(code):
        raise UserError(f"--completion-code {code!r} is not valid; use 1-64 letters, digits, '_' or '-'")
    if url is not None and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
        raise UserError(f"--completion-url {url!r} is not an http(s) URL; give the platform's full return link")
    if access == "prolific" and code is None and url is None:
        raise UserError("a Prolific study needs --completion-code (from Prolific's study setup) or --completion-url")


def completion(study: Study, identity: Identity) -> Completion:
    """What a rater gets when done: the code and the link back to their platform, if any."""
    code = study.completion_code
    if identity.source == "prolific":
        return Completion(code, study.completion_url or f"https://app.prolific.com/submissions/complete?cc={code}")
    if identity.source == "mturk":
        query = urlencode({"assignmentId": identity.external["assignmentId"], "completion_code": code or "done"})
        return Completion(code, f"{identity.external['turkSubmitTo']}/mturk/externalSubmit?{query}")
    return Completion(code, study.completion_url)
