"""The training script's optional switches: `--channels-last` and `--compile`.

They appear only when the graph's `training` turns them on, so the script of a
graph without them stays byte-for-byte what it was. Each becomes a flag that is
on by default (`--no-compile` turns it off for one run): the graph asked for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

I = "    "  # noqa: E741 - one indent, as in script.py


@dataclass(frozen=True)
class Options:
    """The `training` switches the script carries as flags; all off: the script of old."""

    channels_last: bool = False
    compile: bool = False
    ignored: str | None = None  # why channels_last was asked for but left out


def options(graph: Any, dataset: Any) -> Options:
    """channels_last only for image samples (C, H, W) and 2-D convolutions, as in the
    trainer; `Module.to(memory_format=...)` cannot hold 5-D (Conv3d) weights."""
    t = getattr(graph, "training", None)
    if t is None:
        return Options()
    channels_last, ignored = t.channels_last, None
    if channels_last and len(getattr(dataset, "input_shape", ())) != 3:
        channels_last, ignored = False, "the samples are not images (C, H, W)"
    elif channels_last and any(n.type.endswith("3d") for n in graph.nodes):
        channels_last, ignored = False, "the network has 3-D layers (5-D weights)"
    return Options(channels_last, t.compile, ignored)


def to_device(indent: str, opts: Options) -> str:
    if opts.channels_last:
        return (f"{indent}data = data.to(device, memory_format=args.memory_format)\n"
                f"{indent}target = target.to(device)")
    return f"{indent}data, target = data.to(device), target.to(device)"


def option_arguments(opts: Options) -> list[str]:
    out = []
    if opts.channels_last:
        out.append(f'{I}parser.add_argument("--channels-last", '
                   f'action=argparse.BooleanOptionalAction, default=True, '
                   f'help="keep image batches and conv weights as (N, H, W, C) in memory")')
    if opts.compile:
        out.append(f'{I}parser.add_argument("--compile", action=argparse.BooleanOptionalAction, '
                   f'default=True, help="compile the model with torch.compile (slower start, '
                   f'faster steps)")')
    return out
