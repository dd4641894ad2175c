"""The suite interface: a named, verified list of prompts."""

from __future__ import annotations

from abc import ABC, abstractmethod

from evalkit.errors import UserError
from evalkit.options import Component
from evalkit.types import Prompt


class Suite(Component, ABC):
    """Loads its prompts (ids stable across runs of the same suite version)."""

    @abstractmethod
    def prompts(self) -> list[Prompt]:
        """The suite's prompts in a fixed order."""


MAX_ID_LENGTH = 200
_FORBIDDEN = set("/\\")  # path separators


def check_prompt_id(pid: object) -> str | None:
    """Why `pid` cannot name a folder under images/ (None when it can).

    Prompt ids become folder names, so they must stay inside the run directory on every
    filesystem: no separators, no `.`/`..`, no control characters, no leading dot.
    """
    if not isinstance(pid, str) or not pid:
        return "ids must be non-empty text"
    if len(pid) > MAX_ID_LENGTH:
        return f"ids must be at most {MAX_ID_LENGTH} characters"
    if pid.startswith(".") or pid.strip() != pid:
        return "ids must not start with '.' or with/end in spaces"
    bad = sorted({c for c in pid if c in _FORBIDDEN or ord(c) < 32 or ord(c) == 127})
    if bad:
        return f"ids must not contain {', '.join(repr(c) for c in bad)} (path separators or control characters)"
    return None


def check_prompts(prompts: list[Prompt], suite: str) -> list[Prompt]:
    """The suite's prompts, refused if any id is unsafe as a file name or used twice."""
    seen: set[str] = set()
    for p in prompts:
        problem = check_prompt_id(p.id)
        if problem:
            raise UserError(f"suite {suite}: prompt id {p.id!r} is not allowed: {problem}; rename it in the prompt file")
        if p.id in seen:
            raise UserError(f"suite {suite}: prompt id {p.id!r} is used twice; ids must be unique")
        seen.add(p.id)
    if not prompts:
        raise UserError(f"suite {suite} has no prompts")
    return prompts
