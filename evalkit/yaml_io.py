"""Reading the YAML files users write (specs, sweeps): one-line errors for the usual mistakes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evalkit.errors import UserError


def read_yaml(path: Path, what: str, example: str) -> Any:
    """The parsed document at `path`; a missing, unreadable or malformed file is a UserError."""
    import yaml

    if not path.is_file():
        raise UserError(f"{what} file not found: {path} (give the path to a YAML file, {example})")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise UserError(f"{path}: not UTF-8 text ({err.reason}); save it as UTF-8") from None
    except OSError as err:
        raise UserError(f"{path}: cannot read it ({err.strerror})") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or "invalid YAML"
        raise UserError(f"{path}: malformed YAML{where}: {problem}") from None
