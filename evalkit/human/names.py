"""Checks on the names users type: study names become folder names, rater ids URL values."""

from __future__ import annotations

import re

from evalkit.errors import UserError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


def check_study_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise UserError(f"study name {name!r} is not valid; use 1-64 letters, digits, '.', '_', '-', '@' (no spaces)")
    return name


def check_rater_id(rater_id: str) -> str:
    rater_id = (rater_id or "").strip()
    if not _NAME.match(rater_id):
        raise UserError(f"rater id {rater_id!r} is not valid; use 1-64 letters, digits, '.', '_', '-', '@' (no spaces)")
    return rater_id
