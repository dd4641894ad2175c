"""Typed options: every component declares its options as a pydantic model.

`validate(Options, data, where)` turns a mapping from a spec into a frozen options object,
or raises one UserError line with the dotted path of the first bad field:

    generator.stages.1.guidance: must be >= 0 (got -1)
    generator.batch_sise: unknown option; did you mean 'batch_size'? (options: model, ...)

Options are strict: YAML `"4"` is not an int and `yes` is not a path, so a typo in a
spec never silently becomes a different setting.
"""

from __future__ import annotations

import difflib
import math
import re
import typing
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from evalkit.errors import UserError

M = TypeVar("M", bound=BaseModel)

def _device(name: str) -> str:
    if not re.fullmatch(r"cpu|mps|(cuda|xpu)(:\d+)?", name):
        raise ValueError("must be cpu, cuda, cuda:N, mps, xpu or xpu:N")
    return name


# torch device names; whether the device exists is checked before work (evalkit.devices)
Device = Annotated[str, AfterValidator(_device)]


class Options(BaseModel):
    """Base of every component's options: frozen, strict, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, protected_namespaces=())

    def dump(self) -> dict[str, Any]:
        """JSON-ready mapping of every option, defaults included (what the run records)."""
        return self.model_dump(mode="json")


class NoOptions(Options):
    """For components that take no options."""


_MESSAGES = {
    "missing": "required option is missing",
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "string_type": "must be text",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "finite_number": "must be a finite number",
}


def _where(prefix: str, loc: tuple) -> str:
    parts = [prefix] if prefix else []
    # pydantic names union members and function validators in the location; they mean nothing to users
    parts += [str(p) for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]
    return ".".join(parts) or "(top level)"


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model an annotation holds: `M`, `M | None`, `list[M]`, `dict[str, M]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _unknown(model: type[BaseModel], loc: tuple) -> str:
    """'unknown option; did you mean ...' with the valid names of the model at `loc`."""
    owner: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):  # an index into a list of models: same model
            continue
        field = getattr(owner, "model_fields", {}).get(part)
        owner = _model_in(getattr(field, "annotation", None))
        if owner is None:
            break
    return unknown_option(str(loc[-1]), list(getattr(owner, "model_fields", {})) if owner is not None else [])


def unknown_option(key: str, names: list[str]) -> str:
    """'unknown option; did you mean ...? (options: ...)' for `key` among the valid `names`
    (also raised, as error type "unknown_option", by options that embed another component's)."""
    close = difflib.get_close_matches(key, names, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    listed = f"(options: {', '.join(names)})" if names else ""
    return f"unknown option; {hint}{listed}".strip()


def describe_error(err: ValidationError, model: type[BaseModel], prefix: str = "") -> str:
    """One line for the first error of a pydantic ValidationError: `dotted.path: problem (got X)`."""
    errors = err.errors()
    first = errors[0]
    kind, loc = first["type"], tuple(first["loc"])
    if kind == "extra_forbidden":
        message = _unknown(model, loc)
    else:
        message = _MESSAGES.get(kind) or _plain(first["msg"])
    shown = "" if kind in ("missing", "extra_forbidden", "unknown_option") else f" (got {_short(first.get('input'))})"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{_where(prefix, loc)}: {message}{shown}{more}"


def _plain(msg: str) -> str:
    """pydantic's "Input should be ..." as "must be ..."."""
    for subject in ("Input", "String", "Value", "List", "Dictionary"):
        msg = msg.replace(f"{subject} should", "must")
    return msg.replace("Value error, ", "").replace("Assertion failed, ", "")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validate(model: type[M], data: Any, where: str = "") -> M:
    """`model` validated from `data` (a mapping, or None for all defaults); one-line UserError."""
    if data is None:
        data = {}
    if isinstance(data, model):
        return data
    if not isinstance(data, dict):
        raise UserError(f"{where or 'options'}: must be a mapping of options, got {type(data).__name__} {_short(data)}")
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise UserError(describe_error(err, model, where)) from None


def finite(value: float) -> float:
    """A pydantic after-validator: NaN and infinities are not settings."""
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


class Component:
    """A pluggable part (suite, generator, metric, extractor) built from its typed options.

    `Options` is the component's pydantic model; the constructor takes a validated instance.
    `create(**options)` validates keyword options first (handy in Python code and tests).
    """

    Options: ClassVar[type[Options]] = NoOptions

    def __init__(self, options: Options | None = None):
        self.options = options if options is not None else type(self).Options()

    @classmethod
    def create(cls, **options: Any):
        return cls(validate(cls.Options, options, cls.__name__))

    @classmethod
    def interface_problem(cls) -> str | None:
        """What this class lacks of its kind's interface beyond abstract methods (None: nothing)."""
        return None
