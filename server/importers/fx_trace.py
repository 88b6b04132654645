"""Import an `nn.Module` by tracing it with `torch.fx` and mapping each step to the catalogue.

The tracer treats every module the catalogue can build (Conv2d, Linear, ...) as
a leaf, so the traced graph holds exactly one `call_module` per layer, named by
its attribute path (`conv1`, `layer1.0.conv1`), plus the functional calls of
`forward` (`F.relu`, `torch.flatten`, `+`). Each becomes one graph node whose id
is that name, so the graph's module names are the original's. Weights are
copied under the compiled graph's `state_dict` keys. A few lines that together
are one node (`x, _ = self.lstm(x)` then `x[:, -1, :]`; a positional embedding;
attention cut into heads) are found first (`idioms.py`) and made at once; each
forward() argument is an Input (`inputs.py`: its shape, and whether it holds ids).

Anything without a catalogue node (a custom op, a tensor used as a constant, a
method such as `x.roll`) is collected as `Unmapped` with its source line; the
import then fails and names them all, unless `partial` asks to keep what maps.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
import torch.fx as fx
from torch import nn

from server.catalog import LAYERS
from server.compiler import compile_analysis
from server.graph import BLOCK_PREFIX
from server.naming import RESERVED
from server.nesting import SEQUENTIAL_ATTRS

from .folding import Item, fold, is_foldable
from .functions import ROWS, bind
from .idioms import RECURRENT, find_idioms
from .inputs import InputSpec, input_specs
from .modules import compact, is_catalogue, params_of, spec_for
from .result import ImportFailed, ImportResult, Unmapped, assemble
from .tensor_calls import HANDLERS, NUMERIC, NotConstant, label, reads_shape
from .values import BATCHES, Values, evaluate


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


def import_module(model: nn.Module, input_shape: list[int] | list[InputSpec],
                  name: str | None = None,
                  partial: bool = False, blocks: bool = True) -> ImportResult:
    """The graph (with weights) for `model` fed samples of `input_shape` (no batch).

    With `blocks` (the default) each submodule class becomes a block (see
    `folding`); without, or when the folded graph would not keep the original's
    `state_dict` keys, the graph is flat: every layer named by its module path."""
    model = model.eval()
    gm = trace(model)
    builder = _Builder(gm, input_shape)
    builder.run()
    title = name or type(model).__name__
    what = f"operation(s) of {type(model).__name__}"
    if blocks and not builder.unmapped:
        folded = _folded(builder, model, title, what)
        if folded is not None:
            return folded
    graph, names, analysis = assemble(title, builder.nodes, builder.output,
                                      builder.unmapped, partial, what,
                                      hint=" (is --input-shape right?)")
    if names is None:
        return ImportResult(graph=graph, unmapped=builder.unmapped)
    state, keys = builder.weights(model, names)
    return ImportResult(graph=graph, state_dict=state, original_keys=keys,
                        validation=analysis.validation)


def _folded(builder: _Builder, model: nn.Module, title: str, what: str) -> ImportResult | None:
    """The import with blocks, or None when it has none or a weight would not map one to
    one onto an original key."""
    classes = builder.foldable()
    if not classes:
        return None
    items = [Item(node=copy.deepcopy(node),
                  scope=tuple(p for p in builder.scopes.get(node["id"], ()) if p in classes),
                  path=builder.module_ids.get(node["id"]) or builder.param_ids.get(node["id"]),
                  weighted=builder.weighted(node["id"]))
             for node in builder.nodes]
    folded = fold(items, copy.deepcopy(builder.output), classes)
    if not folded.blocks:
        return None
    try:
        graph, names, analysis = assemble(title, folded.nodes, folded.output, [], False, what,
                                          blocks=folded.blocks)
    except ImportFailed:
        return None  # the flat graph says what is wrong, if anything is
    # A top-level node whose path cannot be a node name (RegNet's `block1-0`) has an
    # attribute made from its id: its keys are renamed, one to one, as the flat import's.
    renamed = {}
    for node in folded.nodes:
        path = builder.module_ids.get(node["id"]) or builder.param_ids.get(node["id"]) or \
            (node["id"] if node["type"].startswith(BLOCK_PREFIX) else None)
        if path is not None and names[node["id"]] != path:
            renamed[names[node["id"]]] = path
    own = model.state_dict()
    with torch.device("meta"):  # the keys and shapes, without making any weight
        keys = compile_analysis(analysis).state_dict()
    original = {k: _original_key(k, renamed) for k in keys}
    # Every weight under its original key (a module forward never runs, such as an
    # auxiliary classifier used only in training, has no node, as in the flat import).
    if any(original[k] not in own or keys[k].shape != own[original[k]].shape for k in keys):
        return None
    state = {k: own[original[k]].detach().clone() for k in keys}
    return ImportResult(graph=graph, state_dict=state, original_keys=original,
                        validation=analysis.validation)


def _original_key(key: str, renamed: dict[str, str]) -> str:
    """`trunk_output_block1_block1_0.f.a.0.weight` -> `trunk_output.block1.block1-0.f...`"""
    if key in renamed:
        return renamed[key]
    head, _, rest = key.partition(".")
    return f"{renamed[head]}.{rest}" if head in renamed and rest else key


class _Builder:
    """Walks the fx graph once, adding a graph node per mapped step (the handlers in
    `tensor_calls` use `add`, `alias`, `miss`, `constant` and friends)."""

    def __init__(self, gm: fx.GraphModule, input_shape: list[int] | list[InputSpec]):
        self.gm = gm
        self.input_shape = input_shape
        self.inputs = input_specs(input_shape)  # one per forward argument
        self.idioms = find_idioms(gm)  # lines that together are one node, by anchor
        self.folded = {f for i in self.idioms.values() for f in i.folded}
        self.modules = dict(gm.named_modules())
        self.nodes: list[dict[str, Any]] = []
        self.types: dict[str, str] = {}  # graph node id -> type
        self.ids: dict[fx.Node, Any] = {}  # fx node -> graph ref of its value
        self.ports: dict[fx.Node, str] = {}  # fx node of a tuple -> its multi-output node
        self.first_only: dict[fx.Node, str] = {}  # (output, weights) calls -> class name
        self.consts: set[fx.Node] = set()  # plain numbers computed from shapes
        self.module_ids: dict[str, str] = {}  # graph node id -> module path (for weights)
        self.param_ids: dict[str, str] = {}  # Parameter node id -> parameter path
        self.module_uses: dict[str, int] = {}
        self.scopes: dict[str, tuple[str, ...]] = {}  # graph node id -> enclosing modules
        self.unmapped: list[Unmapped] = []
        self.output: Any = None
        self.inputs_seen = 0
        self._values: Values | None | bool = False  # False: not evaluated yet

    def run(self) -> None:
        for n in self.gm.graph.nodes:
            if n in self.idioms:
                self._idiom(n)
            elif n in self.folded:
                continue  # part of an idiom: its anchor made the node
            elif n.op == "placeholder":
                self._input(n)
            elif n.op == "call_module":
                self._module(n)
            elif n.op in ("call_function", "call_method"):
                try:
                    self._function(n)
                except NotConstant as exc:
                    self.miss(n, str(exc))
            elif n.op == "get_attr":
                self._attribute(n)
            elif n.op == "output":
                self._output(n)
        if self.inputs_seen < len(self.inputs):
            raise ImportFailed(f"{len(self.inputs)} input shapes given but forward() takes "
                               f"{self.inputs_seen} argument(s): give one --input-shape each")

    # -- node kinds --------------------------------------------------------------
    def _input(self, n: fx.Node) -> None:
        """The next forward() argument: an Input with its shape, and dtype when it is ids."""
        index = self.inputs_seen
        self.inputs_seen += 1
        if index >= len(self.inputs):
            self.miss(n, f"forward() takes more arguments than the {len(self.inputs)} input "
                      f"shape(s) given: give one --input-shape per argument",
                      f"forward() argument {n.name}")
            return
        spec = self.inputs[index]
        params: dict[str, Any] = {"shape": list(spec.shape)}
        dtype, vocab = spec.dtype, spec.vocab
        if dtype is None:
            dtype, vocab = self._reads_ids(n)
        if dtype == "long":
            params["dtype"] = "long"
            if vocab is not None:
                params["vocab"] = vocab
        self._append(n, n.name, "Input", params, [])

    def _reads_ids(self, n: fx.Node) -> tuple[str, int | None]:
        """("long", smallest table) when every use of the argument reads token ids (an
        Embedding called on it), else ("float", None): floats cannot index a table."""
        tables = []
        for user in n.users:
            module = self.modules.get(user.target) if user.op == "call_module" else None
            spec = spec_for(module) if module is not None else None
            if spec is None or not getattr(spec, "index_input", False) \
                    or user.args[:1] != (n,):
                return "float", None
            tables.append(module.num_embeddings)
        return ("long", min(tables)) if tables else ("float", None)

    def _idiom(self, n: fx.Node) -> None:
        """The one node several lines make (see idioms.py), its results aliased to it."""
        idiom = self.idioms[n]
        if n.op == "call_module":
            self._module(n)
        else:
            self.add(n, idiom.type, idiom.params, idiom.inputs)
        if n in self.ids:
            for result in idiom.results:
                self.alias(result, self.ids[n])

    def _module(self, n: fx.Node) -> None:
        module = self.modules[n.target]
        idiom = self.idioms.get(n)
        spec = LAYERS[idiom.type] if idiom else spec_for(module)
        what = f"call_module {type(module).__name__}"
        if spec is None:
            self.miss(n, "no catalogue layer", what)
            return
        if idiom is None and isinstance(module, RECURRENT):
            if len(n.args) != 1 or n.kwargs:
                self.miss(n, "an initial state: the catalogue's layer starts from zeros", what)
                return
            self.miss(n, f"a node passes on one value of {type(module).__name__}: the output "
                      f"(x, _ = rnn(x)), its last step (x[:, -1, :]) or the last layer's "
                      f"final hidden state (h_n[-1]); this forward uses another or several",
                      what)
            return
        params, why = params_of(module, spec)
        if params is None:
            self.miss(n, why, what)
            return
        args = list(n.args)
        if idiom is not None:
            params |= idiom.params
            args = list(idiom.inputs)
        elif isinstance(module, nn.MultiheadAttention):
            # The catalogue's node is self-attention: attn(x, x, x, need_weights=False)[0].
            if len(args) != 3 or len(set(args)) != 1 or \
                    any(k != "need_weights" for k in n.kwargs):
                self.miss(n, "only self-attention attn(x, x, x) without masks maps", what)
                return
            args = args[:1]
            self.first_only[n] = "MultiheadAttention"
        elif n.kwargs:
            self.miss(n, f"keyword arguments {sorted(n.kwargs)}", what)
            return
        ins = self._tensor_inputs(n, args)
        if ins is None:
            return
        node_id = n.target
        uses = self.module_uses.get(n.target, 0)
        self.module_uses[n.target] = uses + 1
        if uses:
            if any(True for _ in module.parameters()) or any(True for _ in module.buffers()):
                self.miss(n, f"{n.target} is called {uses + 1} times with the same weights",
                          what)
                return
            # A weightless layer used twice (ResNet's one `relu`) is two nodes.
            node_id = f"{n.target}_{uses}"
        node_id = self._append(n, node_id, spec.type, params, ins)
        self.module_ids[node_id] = n.target
        if not uses and _nestable(n.target):
            # The module's own path: nested containers, so the state_dict keys are the
            # original's (`layer1.0.conv1.weight`) and its checkpoint loads as it is.
            self.nodes[-1]["name"] = n.target

    def _function(self, n: fx.Node) -> None:
        target = n.target
        if reads_shape(n) or (target in NUMERIC and self._numeric_args(n)):
            self.consts.add(n)  # a number; the calls that use it read its value
            return
        if n.op == "call_method" and target in ("view", "reshape") and self._is_flatten(n):
            self.add(n, "Flatten", {}, [n.args[0]])
            return
        handler = HANDLERS.get(target)
        if handler is not None:
            if any(isinstance(a, fx.Node) and a not in self.ids and a not in self.consts
                   for a in n.all_input_nodes):
                return  # an upstream step was not mapped: reported there
            handler(self, n)
            return
        row = ROWS.get(target)
        if row is None:
            self.miss(n, "no catalogue node")
            return
        tensors, params, why = bind(row, tuple(n.args), dict(n.kwargs), self.is_tensor)
        if params is None:
            self.miss(n, why)
            return
        flat = [t for item in tensors for t in (item if isinstance(item, list | tuple)
                                                 else [item])]
        if row.type == "Concat" and len(flat) == 1 and flat[0] in self.ids:
            self.alias(n, self.ids[flat[0]])  # torch.cat([x]) is x (DenseNet)
            return
        self.add(n, row.type, params, flat)

    def _attribute(self, n: fx.Node) -> None:
        """A learned tensor read in forward: a Parameter node when it is (1, ...)."""
        try:
            value = self.gm.get_parameter(n.target)
        except AttributeError:
            self.miss(n, "a tensor used directly in forward that is not a learned "
                      "parameter", f"get_attr {n.target}")
            return
        shape = list(value.shape)
        if not shape or shape[0] != 1:
            self.miss(n, f"a learned tensor of shape {tuple(shape)} used directly in forward;"
                      f" a Parameter node holds (1, ...) tensors, one per sample",
                      f"get_attr {n.target}")
            return
        node_id = self._append(n, n.target, "Parameter", {"shape": shape[1:]}, [])
        self.param_ids[node_id] = n.target

    def _output(self, n: fx.Node) -> None:
        value = n.args[0]
        if isinstance(value, tuple | list):
            if all(v in self.ids for v in value):
                self.output = [self.ids[v] for v in value]
            return
        if isinstance(value, fx.Node):
            self.output = self.ids.get(value)
            return
        self.miss(n, f"a return value of type {type(value).__name__}", "return")

    # -- what the handlers use ---------------------------------------------------
    def add(self, n: fx.Node, type_: str, params: dict[str, Any], inputs: list[Any],
            ports: bool = False) -> None:
        """A catalogue node for `n` fed by the graph values of the fx nodes `inputs`."""
        ins = self._tensor_inputs(n, inputs)
        if ins is None:
            return
        node_id = self._append(n, n.name, type_, compact(params, LAYERS[type_]), ins)
        if ports:
            self.ports[n] = node_id

    def alias(self, n: fx.Node, graph_ref: Any) -> None:
        self.ids[n] = graph_ref

    def miss(self, n: fx.Node, reason: str, op: str | None = None) -> None:
        self.unmapped.append(Unmapped(op=op or label(n), node=n.name, where=_source_line(n),
                                      reason=reason))

    def is_tensor(self, a: Any) -> bool:
        return isinstance(a, fx.Node) and a not in self.consts

    def node_type(self, a: Any) -> str | None:
        ref = self.ids.get(a)
        return self.types.get(ref) if isinstance(ref, str) else None

    def constant(self, a: Any) -> Any:
        """The Python value of an argument (numbers read from shapes included)."""
        if isinstance(a, list | tuple):
            return type(a)(self.constant(v) for v in a)
        if not isinstance(a, fx.Node):
            return a
        if a not in self.consts:
            raise NotConstant(f"{a.name} is a tensor where a number is expected")
        values = self.values()
        if values is None:
            raise NotConstant(f"the value of {a.name} (read from a shape) cannot be found")
        return values.of(a)

    def batchy(self, a: Any) -> bool:
        """Whether a number read from a shape is (or depends on) the batch size."""
        values = self.values() if isinstance(a, fx.Node) and a in self.consts else None
        return values is not None and values.batch_dependent(a)

    def batch_first(self, a: Any) -> bool:
        """`x.size(0)` (or `n` of `n, c, h, w = x.shape`): the batch size itself."""
        return self.batchy(a) and self.values().of(a) == BATCHES[0]

    def values(self) -> Values | None:
        if self._values is False:
            self._values = evaluate(self.gm, self.inputs)
        return self._values

    # -- helpers -----------------------------------------------------------------
    def _numeric_args(self, n: fx.Node) -> bool:
        nodes = n.all_input_nodes
        return bool(nodes) and all(a in self.consts for a in nodes)

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

    def _tensor_inputs(self, n: fx.Node, args: list[Any]) -> list[Any] | None:
        ids = []
        for a in args:
            if not isinstance(a, fx.Node) or a in self.consts:
                shown = a if not isinstance(a, fx.Node) else f"{a.name} (a number)"
                self.miss(n, f"a constant input {shown!r}")
                return None
            if a not in self.ids:
                return None  # an upstream step was not mapped: reported there
            ids.append(self.ids[a])
        return ids

    def _append(self, n: fx.Node, node_id: str, type_: str, params: dict[str, Any],
                inputs: list[Any]) -> str:
        node: dict[str, Any] = {"id": node_id, "type": type_, "params": params}
        if inputs:
            node["inputs"] = inputs
        self.nodes.append(node)
        self.types[node_id] = type_
        self.ids[n] = node_id
        self.scopes[node_id] = self._scope(n)
        return node_id

    def _scope(self, n: fx.Node) -> tuple[str, ...]:
        """The submodules whose forward ran `n` (fx's module stack), outermost first; a
        layer's own call is not part of its scope."""
        stack = n.meta.get("nn_module_stack") or {}
        paths = [path for key, (path, _) in stack.items() if "@" not in key]
        if n.op == "call_module" and paths and paths[-1] == n.target:
            paths = paths[:-1]
        return tuple(paths)

    def foldable(self) -> dict[str, type]:
        """Module path -> class of every submodule that may become a block instance: it
        has a forward of its own and ran once (a second call would mix two uses)."""
        called_twice, classes = set(), {}
        for n in self.gm.graph.nodes:
            for key, (path, cls) in (n.meta.get("nn_module_stack") or {}).items():
                (called_twice.add(path) if "@" in key else classes.setdefault(path, cls))
        return {path: cls for path, cls in classes.items()
                if path not in called_twice and is_foldable(cls) and not is_catalogue(cls)}

    def weighted(self, node_id: str) -> bool:
        if node_id in self.param_ids:
            return True
        path = self.module_ids.get(node_id)
        if path is None:
            return False
        module = self.modules[path]
        return any(True for _ in module.parameters()) or any(True for _ in module.buffers())

    def weights(self, model: nn.Module, names: dict[str, str]
                ) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
        """The original weights under the graph's own keys (its nodes' attribute names),
        and each graph key's original key."""
        state: dict[str, torch.Tensor] = {}
        keys: dict[str, str] = {}
        modules = dict(model.named_modules())
        for node_id, path in self.module_ids.items():
            for key, value in modules[path].state_dict().items():
                state[f"{names[node_id]}.{key}"] = value.detach().clone()
                keys[f"{names[node_id]}.{key}"] = f"{path}.{key}" if path else key
        for node_id, path in self.param_ids.items():
            state[names[node_id]] = model.get_parameter(path).detach().clone()
            keys[names[node_id]] = path
        return state, keys


def _nestable(path: str) -> bool:
    """Whether a dotted module path can be a node `name` (see server.nesting)."""
    first, *rest = path.split(".")
    return bool(rest) and first not in RESERVED and all(
        (seg.isdigit() or seg.isidentifier()) and seg not in SEQUENTIAL_ATTRS for seg in rest)


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
