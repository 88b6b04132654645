"""Parameter descriptions: one `Param` per constructor argument in the catalogue.

A Param knows its kind, default and bounds, checks a user's value with a
message a learner can act on, and renders itself as JSON Schema so the browser
can build a form from it. Value forms follow PyTorch (`kernel_size` is an int or
a pair), so a graph's params read like the constructor call they become.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

REQUIRED = object()

# Kinds of value a parameter takes. "pair" is PyTorch's int-or-tuple form;
# "shape" a list of ints; "float_pair" e.g. Adam's betas; "ints" one whole number or
# several (dims to reduce over, paddings).
KINDS = ("int", "float", "bool", "choice", "pair", "shape", "float_pair", "dim", "str", "ints")


MAX_MESSAGE = 300


class ParamError(ValueError):
    """A bad parameter value; `param` names the argument."""

    def __init__(self, param: str | None, message: str):
        self.param = param
        # Messages quote the bad value; a 4 MB list must not come back whole.
        super().__init__(message if len(message) <= MAX_MESSAGE else
                         message[: MAX_MESSAGE - 3] + "...")


# Sizes beyond these are typos or attacks: PyTorch would fail deep in C++ (or
# allocate for minutes) rather than say which number is wrong.
MAX_INT = 2**31 - 1  # any whole-number param without a tighter bound of its own
MAX_SAMPLE_VALUES = 2**26  # values in one sample (a shape's product): 64M, 256 MB of float32


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    default: Any = REQUIRED
    help: str = ""
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    choices: tuple[Any, ...] = ()
    inferred: bool = False  # follows from the incoming tensor; may be omitted
    nullable: bool = False  # None is a meaningful value (e.g. pooling stride)
    allow_minus_one: bool = False  # one -1 allowed in a "shape" (Reshape)

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind

    @property
    def required(self) -> bool:
        return self.default is REQUIRED and not self.inferred

    def check(self, value: Any) -> Any:
        """Return the value in canonical form, or raise ParamError."""
        if value is None:
            if self.nullable or (self.inferred and self.default in (REQUIRED, None)):
                return None
            raise ParamError(self.name, f"{self.name} must not be empty")
        check = getattr(self, f"_check_{self.kind}")
        return check(value)

    # -- kinds -------------------------------------------------------------
    def _check_int(self, v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            else:
                raise ParamError(self.name, f"{self.name} must be a whole number, got {v!r}")
        self._bounds(v)
        return v

    def _check_dim(self, v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ParamError(self.name, f"{self.name} must be a dimension index, got {v!r}")
        return v

    def _check_ints(self, v: Any) -> int | tuple[int, ...]:
        """One whole number, or a list of up to 8 (dims, paddings), each within the bounds."""
        if isinstance(v, int) and not isinstance(v, bool):
            self._bounds(v)
            return v
        items = v
        if not isinstance(items, list | tuple) or not items or len(items) > 8:
            raise ParamError(self.name, f"{self.name} must be a whole number or a list of up "
                             f"to 8, got {v!r}")
        out = []
        for item in items:
            if isinstance(item, bool) or not isinstance(item, int):
                raise ParamError(self.name, f"{self.name} must hold whole numbers, got {item!r}")
            self._bounds(item)
            out.append(item)
        return tuple(out)

    def _check_float(self, v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ParamError(self.name, f"{self.name} must be a number, got {v!r}")
        if not math.isfinite(v):
            raise ParamError(self.name, f"{self.name} must be finite, got {v!r}")
        self._bounds(v)
        return float(v)

    def _check_str(self, v: Any) -> str:
        if not isinstance(v, str) or len(v) > 4096:
            raise ParamError(self.name, f"{self.name} must be text, got {v!r}")
        return v

    def _check_bool(self, v: Any) -> bool:
        if not isinstance(v, bool):
            raise ParamError(self.name, f"{self.name} must be true or false, got {v!r}")
        return v

    def _check_choice(self, v: Any) -> Any:
        if v not in self.choices:
            options = ", ".join(repr(c) for c in self.choices)
            raise ParamError(self.name, f"{self.name} must be one of {options}, got {v!r}")
        return v

    def _check_pair(self, v: Any) -> int | tuple[int, int]:
        if isinstance(v, list | tuple):
            if len(v) != 2:
                raise ParamError(self.name, f"{self.name} must be a number or a pair, got {v!r}")
            return (self._check_int(v[0]), self._check_int(v[1]))
        return self._check_int(v)

    def _check_float_pair(self, v: Any) -> tuple[float, float]:
        if not isinstance(v, list | tuple) or len(v) != 2:
            raise ParamError(self.name, f"{self.name} must be a pair of numbers, got {v!r}")
        return (self._check_float(v[0]), self._check_float(v[1]))

    def _check_shape(self, v: Any) -> tuple[int, ...]:
        if isinstance(v, int) and not isinstance(v, bool):
            v = [v]
        if not isinstance(v, list | tuple) or not v:
            raise ParamError(self.name, f"{self.name} must be a list of sizes, got {v!r}")
        out = []
        for item in v:
            if isinstance(item, bool) or not isinstance(item, int):
                raise ParamError(self.name, f"{self.name} must hold whole numbers, got {item!r}")
            if item < 1 and not (self.allow_minus_one and item == -1):
                raise ParamError(self.name, f"every size in {self.name} must be at least 1")
            out.append(item)
        if out.count(-1) > 1:
            raise ParamError(self.name, f"{self.name} may hold at most one -1")
        if len(out) > 8:
            raise ParamError(self.name, f"{self.name} has too many dimensions (8 at most)")
        if math.prod(abs(i) for i in out) > MAX_SAMPLE_VALUES:
            raise ParamError(self.name, f"{self.name} {_short(out)} holds more than "
                             f"{MAX_SAMPLE_VALUES:,} values per sample")
        return tuple(out)

    def _bounds(self, v: float) -> None:
        if self.min is not None:
            if self.min_exclusive and v <= self.min:
                raise ParamError(self.name, f"{self.name} must be greater than {self.min:g}")
            if not self.min_exclusive and v < self.min:
                raise ParamError(self.name, f"{self.name} must be at least {self.min:g}")
        if self.max is not None and v > self.max:
            raise ParamError(self.name, f"{self.name} must be at most {self.max:g}")
        if abs(v) > MAX_INT:
            raise ParamError(self.name, f"{self.name} is too large: at most {MAX_INT:,}")

    # -- schema ------------------------------------------------------------
    def json_schema(self) -> dict[str, Any]:
        schema = _KIND_SCHEMA[self.kind](self)
        if self.nullable:
            schema = {"anyOf": [schema, {"type": "null"}]}
        if self.default is not REQUIRED:
            default = self.default
            schema["default"] = list(default) if isinstance(default, tuple) else default
        if self.help:
            schema["description"] = self.help
        if self.inferred:
            schema["x-inferred"] = True
        return schema


def _number(p: Param, type_: str) -> dict[str, Any]:
    s: dict[str, Any] = {"type": type_}
    if p.min is not None:
        s["exclusiveMinimum" if p.min_exclusive else "minimum"] = p.min
    if p.max is not None:
        s["maximum"] = p.max
    return s


_KIND_SCHEMA = {
    "int": lambda p: _number(p, "integer"),
    "dim": lambda p: {"type": "integer"},
    "float": lambda p: _number(p, "number"),
    "bool": lambda p: {"type": "boolean"},
    "str": lambda p: {"type": "string"},
    "choice": lambda p: {"enum": list(p.choices)},
    "pair": lambda p: {
        "anyOf": [
            _number(p, "integer"),
            {"type": "array", "items": _number(p, "integer"), "minItems": 2, "maxItems": 2},
        ],
        "x-form": "pair",
    },
    "shape": lambda p: {
        "type": "array",
        "items": {"type": "integer", "minimum": -1 if p.allow_minus_one else 1},
        "minItems": 1,
    },
    "ints": lambda p: {"anyOf": [_number(p, "integer"),
                                 {"type": "array", "items": _number(p, "integer"),
                                  "minItems": 1, "maxItems": 8}],
                       "x-form": "ints"},
    "float_pair": lambda p: {
        "type": "array", "items": _number(p, "number"), "minItems": 2, "maxItems": 2,
    },
}


def params_schema(params: tuple[Param, ...]) -> dict[str, Any]:
    """JSON Schema of an entry's params object."""
    return {
        "type": "object",
        "properties": {p.name: p.json_schema() for p in params},
        "required": [p.name for p in params if p.required],
        "additionalProperties": False,
    }


@dataclass
class CheckedParams:
    """The outcome of checking a params dict against a table of Params."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: list[ParamError] = field(default_factory=list)


def check_params(table: tuple[Param, ...], given: dict[str, Any]) -> CheckedParams:
    """Check every given value, fill defaults, and report unknown or missing names."""
    out = CheckedParams()
    known = {p.name: p for p in table}
    for name in given:
        if name not in known:
            hint = ", ".join(known) or "none"
            out.errors.append(ParamError(name, f"unknown parameter {name!r} (known: {hint})"))
    for p in table:
        if p.name in given:
            try:
                out.values[p.name] = p.check(given[p.name])
            except ParamError as exc:
                out.errors.append(exc)
        elif p.required:
            out.errors.append(ParamError(p.name, f"{p.name} is required"))
        elif p.default is not REQUIRED:
            out.values[p.name] = p.default
        else:
            out.values[p.name] = None  # inferred later
    return out


def _short(values: list[int]) -> str:
    """A list for a message, each number cut so a 10**30 cannot fill the answer."""
    return "[" + ", ".join(str(v) if len(str(v)) <= 12 else f"{str(v)[:6]}...({len(str(v))} "
                           "digits)" for v in values) + "]"
