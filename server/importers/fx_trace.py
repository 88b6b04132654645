"""Import an `nn.Module` by tracing it with `torch.fx` and mapping each step to the catalogue.

The tracer treats every module the catalogue can build (Conv2d, Linear, ...) as
a leaf, so the traced graph holds exactly one `call_module` per layer, named by
its attribute path (`conv1`, `layer1.0.conv1`), plus the functional calls of
`forward` (`F.relu`, `torch.flatten`, `+`). Each becomes one graph node whose id
is that name, so the graph's module names are the original's. Weights are
copied under the compiled graph's `state_dict` keys.

Anything without a catalogue node (a custom op, a tensor used as a constant, a
method such as `x.roll`) is collected as `Unmapped` with its source line; the
import then fails and names them all, unless `partial` asks to keep what maps.
"""

from __future__ import annotations

import operator
from typing import Any

import torch
import torch.fx as fx
from torch import nn

from server.catalog import LAYERS

from .functions import ROWS, bind, describe
from .modules import compact, params_of, spec_for
from .result import ImportFailed, ImportResult, Unmapped, assemble


class _CatalogueTracer(fx.Tracer):
    """Stops at modules the catalogue builds; traces through everything else."""

    def __init__(self) -> None:
        super().__init__()
        self.record_stack_traces = True

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return spec_for(m) is not None or super().is_leaf_module(m, qualname)


def trace(model: nn.Module) -> fx.GraphModule:
    """The model's fx graph with catalogue layers as leaves; ImportFailed if fx cannot trace."""
    try:
        graph = _CatalogueTracer().trace(model)
    except Exception as exc:  # fx raises many kinds for data-dependent control flow
        raise ImportFailed(f"torch.fx cannot trace {type(model).__name__}: "
                           f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}") from None
    return fx.GraphModule(model, graph)


def import_module(model: nn.Module, input_shape: list[int], name: str | None = None,
                  partial: bool = False) -> ImportResult:
    """The graph (with weights) for `model` fed samples of `input_shape` (no batch)."""
    model = model.eval()
    gm = trace(model)
    builder = _Builder(gm)
    builder.run(input_shape)
    graph, names = assemble(name or type(model).__name__, builder.nodes, builder.output,
                            builder.unmapped, partial,
                            f"operation(s) of {type(model).__name__}",
                            hint=" (is --input-shape right?)")
    if names is None:
        return ImportResult(graph=graph, unmapped=builder.unmapped)
    return ImportResult(graph=graph, state_dict=builder.weights(model, names))


class _Builder:
    def __init__(self, gm: fx.GraphModule):
        self.gm = gm
        self.modules = dict(gm.named_modules())
        self.nodes: list[dict[str, Any]] = []
        self.ids: dict[fx.Node, str] = {}  # fx node -> graph node id of its value
        self.module_ids: dict[str, str] = {}  # graph node id -> module path (for weights)
        self.module_uses: dict[str, int] = {}
        self.unmapped: list[Unmapped] = []
        self.output: str | None = None
        self.inputs_seen = 0

    def run(self, input_shape: list[int]) -> None:
        for n in self.gm.graph.nodes:
            if n.op == "placeholder":
                self._input(n, input_shape)
            elif n.op == "call_module":
                self._module(n)
            elif n.op in ("call_function", "call_method"):
                self._function(n)
            elif n.op == "get_attr":
                self._miss(n, f"get_attr {n.target}", "a tensor used directly in forward")
            elif n.op == "output":
                self._output(n)

    # -- node kinds --------------------------------------------------------------
    def _input(self, n: fx.Node, shape: list[int]) -> None:
        self.inputs_seen += 1
        if self.inputs_seen > 1:
            self._miss(n, "a second forward() argument", "one input is supported")
            return
        self._add(n, n.name, "Input", {"shape": list(shape)}, [])

    def _module(self, n: fx.Node) -> None:
        module = self.modules[n.target]
        spec = spec_for(module)
        if spec is None:
            self._miss(n, f"call_module {type(module).__name__}", "no catalogue layer")
            return
        params, why = params_of(module, spec)
        if params is None:
            self._miss(n, f"call_module {type(module).__name__}", why)
            return
        ins = self._tensor_inputs(n, list(n.args))
        if ins is None:
            return
        node_id = n.target
        uses = self.module_uses.get(n.target, 0)
        self.module_uses[n.target] = uses + 1
        if uses:
            if any(True for _ in module.parameters()) or any(True for _ in module.buffers()):
                self._miss(n, f"call_module {type(module).__name__}",
                           f"{n.target} is called {uses + 1} times with the same weights")
                return
            # A weightless layer used twice (ResNet's one `relu`) is two nodes.
            node_id = f"{n.target}_{uses}"
        node_id = self._add(n, node_id, spec.type, params, ins)
        self.module_ids[node_id] = n.target

    def _function(self, n: fx.Node) -> None:
        target = n.target
        if n.op == "call_method" and target == "size":
            return  # only ever an argument of view/reshape, handled there
        if n.op == "call_method" and target in ("view", "reshape") and self._is_flatten(n):
            ins = self._tensor_inputs(n, [n.args[0]])
            if ins is not None:
                self._add(n, n.name, "Flatten", {}, ins)
            return
        if target is operator.getitem or target == "contiguous":
            self._miss(n, f"{n.op} {describe(target)}", "no catalogue node")
            return
        row = ROWS.get(target)
        if row is None:
            self._miss(n, f"{n.op} {describe(target)}", "no catalogue node")
            return
        tensors, params, why = bind(row, tuple(n.args), dict(n.kwargs),
                                    lambda v: isinstance(v, fx.Node))
        if params is None:
            self._miss(n, f"{n.op} {describe(target)}", why)
            return
        flat = [t for item in tensors for t in (item if isinstance(item, list | tuple)
                                                 else [item])]
        ins = self._tensor_inputs(n, flat)
        if ins is not None and row.type == "Concat" and len(ins) == 1:
            self.ids[n] = ins[0]  # torch.cat([x]) is x (DenseNet's first layer of a block)
            return
        if ins is not None:
            self._add(n, n.name, row.type, compact(params, LAYERS[row.type]), ins)

    def _output(self, n: fx.Node) -> None:
        value = n.args[0]
        if not isinstance(value, fx.Node):
            self._miss(n, "return of several values", "one output is supported")
            return
        self.output = self.ids.get(value)

    # -- helpers -----------------------------------------------------------------
    def _is_flatten(self, n: fx.Node) -> bool:
        """`x.view(x.size(0), -1)`: the classic flatten of a tutorial's forward."""
        args = n.args[1:]
        if len(args) == 1 and isinstance(args[0], tuple | list):
            args = tuple(args[0])
        if len(args) != 2 or args[1] != -1:
            return False
        size = args[0]
        return (isinstance(size, fx.Node) and size.op == "call_method"
                and size.target == "size" and size.args[0] is n.args[0]
                and (size.args[1:] == (0,) or size.kwargs.get("dim") == 0))

    def _tensor_inputs(self, n: fx.Node, args: list[Any]) -> list[str] | None:
        ids = []
        for a in args:
            if not isinstance(a, fx.Node):
                self._miss(n, f"{n.op} {describe(n.target)}", f"a constant input {a!r}")
                return None
            if a not in self.ids:
                return None  # an upstream step was not mapped: reported there
            ids.append(self.ids[a])
        return ids

    def _add(self, n: fx.Node, node_id: str, type_: str, params: dict[str, Any],
             inputs: list[str]) -> str:
        node: dict[str, Any] = {"id": node_id, "type": type_, "params": params}
        if inputs:
            node["inputs"] = inputs
        self.nodes.append(node)
        self.ids[n] = node_id
        return node_id

    def _miss(self, n: fx.Node, op: str, reason: str) -> None:
        self.unmapped.append(Unmapped(op=op, node=n.name, where=_source_line(n),
                                      reason=reason))

    def weights(self, model: nn.Module, names: dict[str, str]) -> dict[str, torch.Tensor]:
        """The original weights under the graph's own keys (its nodes' attribute names)."""
        state: dict[str, torch.Tensor] = {}
        modules = dict(model.named_modules())
        for node_id, path in self.module_ids.items():
            for key, value in modules[path].state_dict().items():
                state[f"{names[node_id]}.{key}"] = value.detach().clone()
        return state


def _source_line(n: fx.Node) -> str:
    """`model.py:42` from the node's recorded stack trace (its last frame is forward's)."""
    trace_text = getattr(n, "stack_trace", None) or ""
    for line in reversed(trace_text.strip().splitlines()):
        line = line.strip()
        if line.startswith("File ") and "/torch/" not in line:
            parts = line.split('"')
            if len(parts) >= 3:
                where = parts[1].rsplit("/", 1)[-1]
                number = parts[2].split("line")[-1].split(",")[0].strip()
                return f"{where}:{number}"
    return ""
