"""What a Python model's `forward` takes: one `InputSpec` per argument, in order.

`--input-shape 1,28,28` gives one float input; `--input-shape 32 --input-dtype long
--vocab 45` one of token ids; `--input-shape` given once per argument gives several
(`forward(self, image, tokens)`). Without a dtype the import decides from the model: an
input read only by layers that take token ids (an `nn.Embedding`) holds ids, below
the smallest of their table sizes; any other input is float.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .result import ImportFailed

DTYPES = ("float", "long")


@dataclass(frozen=True)
class InputSpec:
    shape: tuple[int, ...]  # without the batch
    dtype: str | None = None  # None: found from the layers that read it
    vocab: int | None = None  # for long ids: exclusive upper bound

    def __post_init__(self) -> None:
        if any(not isinstance(s, int) or isinstance(s, bool) or s < 1 for s in self.shape):
            raise ImportFailed(f"input shape {list(self.shape)}: every size must be a "
                               f"positive integer")
        if self.dtype not in (None, *DTYPES):
            raise ImportFailed(f"input dtype {self.dtype!r}: give one of {', '.join(DTYPES)}")
        if self.vocab is not None:
            if self.dtype == "float":
                raise ImportFailed("a vocab bounds token ids: it needs --input-dtype long")
            if not isinstance(self.vocab, int) or isinstance(self.vocab, bool) \
                    or self.vocab < 1:
                raise ImportFailed(f"vocab {self.vocab!r} must be a positive integer")


def input_specs(shapes: Any, dtypes: list[str] | None = None,
                vocabs: list[int] | None = None) -> list[InputSpec]:
    """One spec per forward argument from a shape (`[1, 28, 28]`), a list of shapes, or
    specs already made; `dtypes` and `vocabs` hold one value for all inputs or one each."""
    if isinstance(shapes, InputSpec):
        return [shapes]
    shapes = list(shapes)
    if shapes and all(isinstance(s, InputSpec) for s in shapes):
        return shapes
    if not shapes or all(isinstance(s, int) for s in shapes):
        shapes = [shapes]
    if not all(isinstance(s, list | tuple) for s in shapes):
        raise ImportFailed(f"input shape {shapes!r}: give one list of sizes per input")
    count = len(shapes)
    dtypes = _each(dtypes, count, "--input-dtype")
    vocabs = _each(vocabs, count, "--vocab")
    # a vocab says the input holds ids
    return [InputSpec(tuple(s), d or ("long" if v is not None else None), v)
            for s, d, v in zip(shapes, dtypes, vocabs, strict=True)]


def _each(values: list[Any] | None, count: int, flag: str) -> list[Any]:
    if not values:
        return [None] * count
    if len(values) == 1:
        return list(values) * count
    if len(values) != count:
        raise ImportFailed(f"{flag} is given {len(values)} times for {count} inputs: give it "
                           f"once (for all) or once per --input-shape")
    return list(values)
