"""Deployment formats: the compiled network as an ONNX, TorchScript or `torch.export` file.

Code export (`module`, `script`) is for people; these files are for runtimes:
`onnx` for onnxruntime and every ONNX tool, `torchscript` for `torch.jit.load`
in a process that has no torchcanvas, `exported-program` for `torch.export.load`.
Each is written from the compiled module, in eval mode, with the weights given
(a run's checkpoint) or fresh ones from the graph's seed, and a dynamic batch
dimension. Input and output names are the graph's own node names; several inputs
(token ids as int64) and a tuple of outputs keep their order.

ONNX support is an optional extra (`pip install 'torchcanvas[onnx]'`): without
it the format is refused with a message naming the extra, and the rest of the
package works as before.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import torch

from server.compiler import compile_analysis
from server.graph import Graph
from server.nesting import attr_names
from server.validation import Analysis, Limits, require_valid

DeployFormat = Literal["onnx", "torchscript", "exported-program"]
# The file suffix and media type of each format: what downloads are named and sent as.
DEPLOY_FORMATS: dict[str, tuple[str, str]] = {
    "onnx": (".onnx", "application/octet-stream"),
    "torchscript": (".pt", "application/octet-stream"),
    "exported-program": (".pt2", "application/octet-stream"),
}
ONNX_OPSET = 18  # attention, LayerNorm and the upsampling modes all have native ops here
EXAMPLE_BATCH = 2  # traced with 2, so nothing treats the batch as the constant 1


class DeployError(ValueError):
    """A graph that this format cannot express, or a missing optional extra."""


def export_deployable(graph: Graph | dict | Analysis, format: DeployFormat,
                      state_dict: Mapping[str, torch.Tensor] | None = None,
                      seed: int | None = None, limits: Limits | None = None) -> bytes:
    """The file's bytes; raises InvalidGraph for an invalid graph, DeployError otherwise."""
    if format not in DEPLOY_FORMATS:
        raise DeployError(f"unknown deployment format {format!r}; use one of "
                          f"{', '.join(DEPLOY_FORMATS)}")
    analysis = graph if isinstance(graph, Analysis) else require_valid(graph, limits)
    if seed is None:
        training = analysis.graph.training
        seed = training.seed if training is not None and training.seed is not None else 0
    model = compile_analysis(analysis, seed)
    if state_dict is not None:
        model.load_state_dict(state_dict, strict=True)
    model.eval()
    writer = {"onnx": _onnx, "torchscript": _torchscript,
              "exported-program": _exported_program}[format]
    with torch.no_grad():
        return writer(model, analysis)


def io_names(analysis: Analysis) -> tuple[str, str]:
    """The first input's and first output's names (see `input_names`, `output_names`)."""
    return input_names(analysis)[0], output_names(analysis)[0]


def input_names(analysis: Analysis) -> list[str]:
    """What a runtime calls the inputs: the Input nodes' names in exported code."""
    names = attr_names(analysis.graph, analysis.order)
    return [names[nid].replace(".", "_") for nid in analysis.input_ids]


def output_names(analysis: Analysis) -> list[str]:
    """One name per returned value: the node's name, `_1`... for a port past the first,
    never an input's name and never twice (ONNX values are named once)."""
    names = attr_names(analysis.graph, analysis.order)
    taken = set(input_names(analysis))
    out = []
    for nid, port in analysis.outputs:
        base = names[nid].replace(".", "_") + (f"_{port}" if port else "")
        name, n = base, 1
        while name in taken:
            name, n = f"{base}_out" if n == 1 else f"{base}_out{n}", n + 1
        taken.add(name)
        out.append(name)
    return out


def example_inputs(analysis: Analysis) -> tuple[torch.Tensor, ...]:
    """EXAMPLE_BATCH random samples per input: normal values, or ids below the vocab."""
    generator = torch.Generator().manual_seed(0)
    xs = []
    for nid in analysis.input_ids:
        shape = (EXAMPLE_BATCH, *analysis.shapes[nid])
        if analysis.dtypes.get(nid) == "long":
            vocab = analysis.resolved[nid].get("vocab") or 2
            xs.append(torch.randint(0, vocab, shape, generator=generator))
        else:
            xs.append(torch.randn(*shape, generator=generator))
    return tuple(xs)


def example_input(analysis: Analysis) -> torch.Tensor:
    """The first input's example batch."""
    return example_inputs(analysis)[0]


def onnx_available() -> bool:
    return importlib.util.find_spec("onnx") is not None


def _onnx(model: torch.nn.Module, analysis: Analysis) -> bytes:
    if not onnx_available():
        raise DeployError("ONNX export needs the onnx extra: pip install 'torchcanvas[onnx]'")
    import onnx

    ins, outs = input_names(analysis), output_names(analysis)
    example = example_inputs(analysis)
    buffer = io.BytesIO()
    # First the TorchScript-based exporter: for most graphs it writes the same ops as
    # the dynamo exporter in a hundredth of the time (milliseconds, not seconds).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(model, example, buffer, dynamo=False,
                              opset_version=ONNX_OPSET, input_names=ins, output_names=outs,
                              dynamic_axes={name: {0: "batch"} for name in ins + outs})
        except Exception as exc:  # any exporter failure is the answer to the user
            # Then the dynamo exporter, which decomposes what the old one cannot
            # (e.g. adaptive pooling to a size that does not divide the input).
            buffer = io.BytesIO(_onnx_dynamo(model, example, ins, outs, exc))
    data = buffer.getvalue()
    onnx.checker.check_model(onnx.load_from_string(data))
    return data


def _onnx_dynamo(model: torch.nn.Module, example: tuple, ins: list[str], outs: list[str],
                 first: Exception) -> bytes:
    if importlib.util.find_spec("onnxscript") is None:
        raise DeployError(f"ONNX cannot express this network: {_first_line(first)}") from None
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # it prints its progress
            program = torch.onnx.export(model, example, dynamo=True, opset_version=ONNX_OPSET,
                                        input_names=ins, output_names=outs,
                                        dynamic_shapes=_dynamic(example), verbose=False)
    except Exception as exc:
        raise DeployError(f"ONNX cannot express this network: {_first_line(exc)}") from None
    return program.model_proto.SerializeToString()


def _torchscript(model: torch.nn.Module, analysis: Analysis) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit is deprecated, but still what many load
        try:
            # check_trace off: a RandnLike node makes two traced runs differ by design.
            traced = torch.jit.trace(model, example_inputs(analysis), check_trace=False)
        except Exception as exc:
            raise DeployError(f"TorchScript cannot trace this network: {_first_line(exc)}") \
                from None
        buffer = io.BytesIO()
        torch.jit.save(traced, buffer)
    return buffer.getvalue()


def _exported_program(model: torch.nn.Module, analysis: Analysis) -> bytes:
    example = example_inputs(analysis)
    try:
        program = torch.export.export(model, example, dynamic_shapes=_dynamic(example))
    except Exception as exc:
        raise DeployError(f"torch.export cannot capture this network: {_first_line(exc)}") \
            from None
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    return buffer.getvalue()


def _dynamic(example: tuple) -> tuple:
    """forward(*xs): the varargs are one argument, a tuple with a batch dim per input."""
    batch = torch.export.Dim("batch", min=1, max=1 << 20)
    return (tuple({0: batch} for _ in example),)


def write_deployable(path: str | Path, data: bytes) -> Path:
    """Write through a temp file, so a half-written model file is never left behind."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def _first_line(exc: BaseException) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip().splitlines()  # no terminal colours
    return f"{type(exc).__name__}: {text[0][:300]}" if text else type(exc).__name__


__all__: list[Any] = ["DEPLOY_FORMATS", "DeployError", "example_inputs", "export_deployable",
                      "input_names", "io_names", "onnx_available", "output_names",
                      "write_deployable"]
