"""Call a registered object with options from a spec, turning bad options into UserErrors."""

from __future__ import annotations

import inspect
from typing import Any, Callable

from evalkit.errors import UserError


def call_with_options(kind: str, name: str, fn: Callable, options: dict[str, Any], **fixed: Any) -> Any:
    """Call fn(**fixed, **options) after checking the option names against its signature."""
    params = inspect.signature(fn).parameters
    named = {k: p for k, p in params.items() if k not in fixed and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    unknown = [k for k in options if k not in named and not takes_any]
    if unknown:
        raise UserError(f"{kind} '{name}' has no option '{unknown[0]}'; its options are: {', '.join(named) or '(none)'}")
    missing = [k for k, p in named.items() if p.default is p.empty and k not in options]
    if missing:
        raise UserError(f"{kind} '{name}' needs option '{missing[0]}'; add it under `{kind}:` in the spec")
    return fn(**fixed, **options)
