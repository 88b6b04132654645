"""Validation and shape inference: is this graph a network, and what flows where?

`analyze_graph` walks the graph once, in topological order, and returns an
`Analysis`: every node's output shape, resolved constructor arguments (inferred
sizes filled in), parameter count, errors and warnings, plus the graph-level
facts the compiler and exporter build on. `validate_graph` returns just the
public `Validation` report that the CLI prints and the API serves.

Parameter counts come from building each layer on PyTorch's `meta` device, so a
`Linear(10**6, 10**6)` is counted, and refused, without allocating a byte.
"""

from __future__ import annotations

import difflib
import heapq
import math
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import torch
from pydantic import BaseModel, Field

from server.blocks import (
    MAX_DEPTH,
    MAX_EXPANDED,
    BlockError,
    BlockSpec,
    count_nodes,
    exposed_values,
    instance_graph,
    layer_table,
)
from server.catalog import (
    LAYERS,
    LOSSES,
    OPTIMIZERS,
    SCHEDULERS,
    LayerSpec,
    ParamError,
    Shape,
    ShapeError,
    check_params,
    fmt,
)
from server.catalog.hints import suggest
from server.dtypes import result_dtype
from server.graph import BLOCK_NAME_PATTERN, BLOCK_PREFIX, Graph, GraphFormatError, parse_graph
from server.nesting import name_problems
from server.ports import Key, output_refs, ref, show, source
from server.recipe import DEFAULT_LOSS
from server.sequence_lints import sequence_lints, sequence_nodes

# The device names training understands; whether this machine has one is the
# server's question (at POST /api/runs), not the format's.
DEVICE_NAME = re.compile(r"auto|cpu|mps|cuda(:[0-9]{1,2})?")

# -- the public report ---------------------------------------------------------


class Issue(BaseModel):
    """One error or warning. `node` names the node; `component` names loss,
    optimizer, scheduler, data or training when the issue lies there."""

    node: str | None = None
    param: str | None = None
    component: str | None = None
    message: str


class NodeReport(BaseModel):
    output_shape: list[int] | None = None
    # Only for nodes with several output ports: one shape per port.
    output_shapes: list[list[int]] | None = None
    params: int = 0
    errors: list[Issue] = Field(default_factory=list)
    warnings: list[Issue] = Field(default_factory=list)
    inferred: dict[str, Any] = Field(default_factory=dict)


class Validation(BaseModel):
    valid: bool
    nodes: dict[str, NodeReport] = Field(default_factory=dict)
    errors: list[Issue] = Field(default_factory=list, description="Errors not tied to one node")
    warnings: list[Issue] = Field(default_factory=list)
    total_params: int = 0
    output: str | None = None

    def all_errors(self) -> list[Issue]:
        """Graph-level errors followed by every node's, in node order."""
        return self.errors + [e for r in self.nodes.values() for e in r.errors]

    def all_warnings(self) -> list[Issue]:
        return self.warnings + [w for r in self.nodes.values() for w in r.warnings]


@dataclass(frozen=True)
class Limits:
    """Size limits: settings, not constants (`--max-nodes`/`--max-params` on the command
    line, TORCHCANVAS_MAX_NODES / TORCHCANVAS_MAX_PARAMS in the environment).

    The defaults take every network of the reference list (VGG-11's 133M parameters
    are counted on the meta device without allocating); what really limits training is
    memory, which `server.memory` estimates."""

    max_nodes: int = 2000
    max_params: int = 250_000_000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Limits:
        env = os.environ if env is None else env
        return cls(max_nodes=_env_int(env, "TORCHCANVAS_MAX_NODES", cls.max_nodes),
                   max_params=_env_int(env, "TORCHCANVAS_MAX_PARAMS", cls.max_params))


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, "").replace("_", "").strip()
    if not text:
        return default
    try:
        value = int(float(text)) if "e" in text.lower() else int(text)
    except ValueError:
        raise ValueError(f"{name}={env[name]!r} is not a whole number") from None
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return value


class InvalidGraph(ValueError):
    """Raised by the compiler and exporter; carries the full report."""

    def __init__(self, validation: Validation):
        self.validation = validation
        errors = validation.all_errors()
        first = errors[0] if errors else Issue(message="invalid graph")
        where = f"{first.node}: " if first.node else ""
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{where}{first.message}{more}")


# -- the analysis --------------------------------------------------------------


@dataclass
class Analysis:
    graph: Graph | None
    validation: Validation
    order: list[str] = field(default_factory=list)
    shapes: dict[str, Shape] = field(default_factory=dict)
    resolved: dict[str, dict[str, Any]] = field(default_factory=dict)
    consumers: dict[str, list[str]] = field(default_factory=dict)
    input_id: str | None = None  # the first input
    output_id: str | None = None  # the node of the first output
    input_ids: list[str] = field(default_factory=list)  # forward()'s arguments, in order
    outputs: list[Key] = field(default_factory=list)  # what forward() returns
    output_tuple: bool = False  # the graph's `output` is a list: forward returns a tuple
    out_shapes: dict[str, list[Shape]] = field(default_factory=dict)  # per port
    multi: set[str] = field(default_factory=set)  # nodes with several output ports
    dtypes: dict[str, str] = field(default_factory=dict)  # "float" or "long", per node
    dataset: Any = None  # server.datasets.DatasetInfo when graph.data names one
    specs: Mapping[str, LayerSpec] = field(default_factory=lambda: LAYERS)  # + the blocks
    sub: dict[str, Analysis] = field(default_factory=dict)  # a block instance's analysis
    exposed: dict[str, Any] = field(default_factory=dict)  # a block's: its instance's params

    def shape_of(self, item: Any) -> Shape | None:
        """The shape flowing along an edge (a node id or a port reference)."""
        nid, port = ref(item) if not isinstance(item, tuple) else item
        shapes = self.out_shapes.get(nid)
        return shapes[port] if shapes is not None and port < len(shapes) else None

    @property
    def valid(self) -> bool:
        return self.validation.valid

    def layers(self) -> Iterator[tuple[Any, LayerSpec, dict[str, Any]]]:
        """(node, spec, resolved params) of every node but the Input, in topological order."""
        nodes = {n.id: n for n in self.graph.nodes}
        for nid in self.order:
            node = nodes[nid]
            if node.type != "Input":
                yield node, self.specs[node.type], self.resolved[nid]


def validate_graph(graph: Graph | dict, limits: Limits | None = None) -> Validation:
    """The public report for a graph (or a dict that may not even be a graph)."""
    return analyze_graph(graph, limits).validation


def require_valid(graph: Graph | dict, limits: Limits | None = None) -> Analysis:
    """Analyze, raising `InvalidGraph` unless the graph is valid."""
    analysis = analyze_graph(graph, limits)
    if not analysis.valid:
        raise InvalidGraph(analysis.validation)
    return analysis


def analyze_graph(graph: Graph | dict, limits: Limits | None = None) -> Analysis:
    limits = limits or Limits.from_env()
    nodes = graph.get("nodes") if isinstance(graph, dict) else getattr(graph, "nodes", None)
    count = count_nodes(graph) if isinstance(graph, dict | Graph) else 0
    if isinstance(nodes, list) and count > limits.max_nodes:
        # Refuse before pydantic parses every node: 10**5 nodes would take a second.
        report = Validation(valid=False, errors=[Issue(message=_too_many(count, limits))])
        return Analysis(graph=None, validation=report)
    try:
        g = parse_graph(graph)
    except GraphFormatError as exc:
        report = Validation(valid=False, errors=[Issue(**e) for e in exc.errors])
        return Analysis(graph=None, validation=report)
    return _Analyzer(g, limits).run()


class _Expansion:
    """What the analyses of one graph and all its block instances share: instances with
    the same block, input shapes and params analysed once, and a bound on the total."""

    def __init__(self) -> None:
        self.cache: dict[tuple, Analysis] = {}
        self.nodes = 0


# Block instances are analysed under no size limits of their own: the whole graph's
# parameters are checked once, at the top, and the node limit counts definitions.
_UNLIMITED = Limits(max_nodes=10**9, max_params=10**18)


class _Analyzer:
    def __init__(self, graph: Graph, limits: Limits, expansion: _Expansion | None = None,
                 stack: tuple[str, ...] = ()):
        self.g = graph
        self.limits = limits
        self.report = Validation(valid=False)
        self.specs = layer_table(graph)
        self.a = Analysis(graph=graph, validation=self.report, specs=self.specs)
        self.nodes = {}  # id -> Node (first of duplicates)
        self.params: dict[str, dict[str, Any]] = {}
        self.expansion = expansion or _Expansion()
        self.stack = stack  # the blocks being expanded, outermost first

    # errors and warnings: on the node's report when the node exists, else the graph's
    def error(self, message: str, node: str | None = None, param: str | None = None,
              component: str | None = None) -> None:
        self._file("errors", Issue(node=node, param=param, component=component, message=message))

    def warn(self, message: str, node: str | None = None, param: str | None = None,
             component: str | None = None) -> None:
        self._file("warnings", Issue(node=node, param=param, component=component,
                                     message=message))

    def _file(self, kind: str, issue: Issue) -> None:
        owner = self.report.nodes.get(issue.node) if issue.node is not None else None
        getattr(owner if owner is not None else self.report, kind).append(issue)

    def run(self) -> Analysis:
        for n in self.g.nodes:
            if n.id in self.nodes:
                self.error(f"duplicate node id {n.id!r}", node=n.id)
                continue
            self.nodes[n.id] = n
            self.report.nodes[n.id] = NodeReport()
        self._check_names()
        self._load_dataset()
        self._check_types_and_inputs()
        self._order()
        self._find_output()
        self._check_params()
        self._infer_shapes()
        self._check_shared_sizes()
        self._check_components()
        if self.report.total_params > self.limits.max_params:
            # Name the largest layer: it is almost always the one to shrink.
            big = max(self.report.nodes, key=lambda nid: self.report.nodes[nid].params)
            self.error(f"the network has {self.report.total_params:,} parameters, more than the "
                       f"limit of {self.limits.max_params:,}; this layer alone has "
                       f"{self.report.nodes[big].params:,}", node=big)
        self._check_memory()
        self._lint()
        self.report.output = self.a.output_id
        self.report.valid = not self.report.all_errors()
        return self.a

    def _check_memory(self) -> None:
        """With a dataset (so a batch size), refuse a network whose training step cannot
        fit this machine's memory, naming the node with the largest activation."""
        from server.memory import (
            BYTES_PER_VALUE,
            activation_values,
            estimate_training_memory,
            human_bytes,
            machine_memory,
        )

        if self.g.data is None or not self.a.shapes or self.report.all_errors():
            return
        have = machine_memory()
        need = estimate_training_memory(self.a)
        if have is None or need.total <= have:
            return
        values = activation_values(self.a.shapes)
        big = max(values, key=values.__getitem__)
        per_batch = values[big] * need.batch_size * BYTES_PER_VALUE
        self.error(f"training needs about {human_bytes(need.total)} of memory at batch size "
                   f"{need.batch_size}, more than this machine's {human_bytes(have)}; "
                   f"{big!r} alone outputs {fmt(self.a.shapes[big])}, "
                   f"{human_bytes(per_batch)} for the batch", node=big)

    def _check_names(self) -> None:
        if not self.stack:
            for name in self.g.blocks or {}:
                if not re.fullmatch(BLOCK_NAME_PATTERN, name):
                    self.error(f"block name {name[:64]!r} must be an identifier (letters, "
                               "digits and _, not starting with a digit)")
        for nid, message in name_problems(self.g):
            self.error(message, node=nid, param="name")

    def _load_dataset(self) -> None:
        if self.g.data is None:
            return
        from server.datasets import DatasetError, describe_dataset  # imports nothing heavy

        try:
            self.a.dataset = describe_dataset(self.g.data.dataset, self.g.data.params)
        except DatasetError as exc:
            self.error(str(exc), component="data")

    def _check_types_and_inputs(self) -> None:
        inputs = []
        for n in self.nodes.values():
            spec = self.specs.get(n.type)
            if spec is None:
                self.error(_unknown_type(n.type, self.g), node=n.id)
                continue
            if n.type == "Input":
                inputs.append(n.id)
            lo, hi = spec.arity
            count = len(n.inputs)
            if count < lo or (hi is not None and count > hi):
                want = (f"exactly {lo}" if lo == hi else
                        f"at least {lo}" if hi is None else f"{lo} to {hi}")
                plural = "s" if (hi or lo) != 1 else ""
                # Said for the person on the canvas: what is missing and how to add it.
                how = (": connect a layer's output port (bottom) to its input port (top)"
                       if count < lo else ": remove one of its incoming edges")
                self.error(f"{n.type} takes {want} input{plural}, got {count}{how}",
                           node=n.id, param="inputs")
            for src in n.inputs:
                if source(src) not in self.nodes:
                    self.error(f"input {source(src)!r} is not a node in this graph", node=n.id,
                               param="inputs")
            keys = [ref(s) for s in n.inputs]
            if len(set(keys)) != len(keys) and not spec.repeat_inputs:
                self.error("the same input is connected twice", node=n.id, param="inputs")
        if not self.nodes:
            self.error("the canvas is empty: drag an Input layer from the palette, or pick a "
                       "template, to start")
        elif not inputs:
            self.error("the graph has no Input node: drag one from the palette and connect it "
                       "to the first layer")
        if self.g.inputs is not None:
            if sorted(self.g.inputs) != sorted(inputs):
                self.error(f"the graph's `inputs` must list every Input node once, in the "
                           f"order forward() takes them: {', '.join(map(repr, inputs))}")
            else:
                inputs = list(self.g.inputs)
        self.a.input_ids = inputs
        self.a.input_id = inputs[0] if inputs else None

    def _order(self) -> None:
        """Kahn's algorithm; ties broken by the order of `nodes` so names are stable."""
        index = {nid: i for i, nid in enumerate(self.nodes)}
        preds = {nid: [source(s) for s in n.inputs if source(s) in self.nodes]
                 for nid, n in self.nodes.items()}
        consumers: dict[str, list[str]] = {nid: [] for nid in self.nodes}
        for nid, ps in preds.items():
            for p in ps:
                consumers[p].append(nid)
        waiting = {nid: len(ps) for nid, ps in preds.items()}
        ready = [(index[n], n) for n, w in waiting.items() if w == 0]
        heapq.heapify(ready)
        order = []
        while ready:
            _, nid = heapq.heappop(ready)
            order.append(nid)
            for c in consumers[nid]:
                waiting[c] -= 1
                if waiting[c] == 0:
                    heapq.heappush(ready, (index[c], c))
        for nid in self.nodes:
            if waiting[nid] > 0:
                self.error("this node is part of a cycle", node=nid, param="inputs")
        self.a.order = order
        self.a.consumers = consumers

    def _find_output(self) -> None:
        refs = output_refs(self.g.output)
        self.a.output_tuple = isinstance(self.g.output, list)
        if refs is not None:
            missing = [nid for nid, _ in refs if nid not in self.nodes]
            for nid in missing:
                self.error(f"output {nid!r} is not a node in this graph")
            if not refs:
                self.error("the graph's output list is empty")
            if missing or not refs:
                return
            out = refs[0][0]
        else:
            sinks = [nid for nid, cs in self.a.consumers.items() if not cs]
            if not sinks:
                return  # an empty canvas (said above) or only cycles (said per node)
            if len(sinks) != 1:
                names = f"{', '.join(sinks[:-1])} and {sinks[-1]}"
                both = "both" if len(sinks) == 2 else "all"
                self.error(f"cannot tell which node is the output: {names} {both} lead nowhere. "
                           "Connect all but one of them onward, or drag the output's port "
                           "onto the loss block")
                return
            out = sinks[0]
            refs = [(out, 0)]
        self.a.output_id = out
        self.a.outputs = refs
        # Every node must contribute to an output; walk back from them.
        seen = {nid for nid, _ in refs}
        stack = list(seen)
        while stack:
            for item in self.nodes[stack.pop()].inputs:
                src = source(item)
                if src in self.nodes and src not in seen:
                    seen.add(src)
                    stack.append(src)
        # A cut link leaves a whole chain behind; point at its end (where the link is
        # missing), not at every layer of it, and name the layer that lost its input.
        starved = [nid for nid in seen if not self.nodes[nid].inputs
                   and self.specs.get(self.nodes[nid].type)
                   and self.specs[self.nodes[nid].type].arity[0]]
        hint = f" ({', '.join(starved)} has no input)" if starved else ""
        for nid in self.nodes:
            if nid not in seen and not self.a.consumers.get(nid):
                self.error(f"{nid} does not reach the output {out!r}: its result goes nowhere. "
                           f"Connect it to the next layer{hint}", node=nid)

    def _check_params(self) -> None:
        for nid, n in self.nodes.items():
            spec = self.specs.get(n.type)
            if spec is None:
                continue
            if isinstance(spec, BlockSpec):
                values, problems = exposed_values(spec, n.params)
                for problem in problems:
                    self.error(problem, node=nid, param="params")
                self.params[nid] = values
                continue
            checked = check_params(spec.params, n.params)
            if n.shares is not None and not n.params:
                continue  # takes the shared node's params, in _check_shares
            for err in checked.errors:
                self.error(str(err), node=nid, param=err.param)
            self.params[nid] = checked.values
        for n in self.nodes.values():
            if n.shares is not None:
                self._check_shares(n)

    def _check_shares(self, n: Any) -> None:
        """A node that applies another node's layer: same type, that node's params."""
        target = self.nodes.get(n.shares)
        if target is None:
            self.error(f"shares {n.shares!r}, which is not a node in this graph", node=n.id,
                       param="shares")
        elif target.shares is not None or target.id == n.id:
            self.error(f"shares {n.shares!r}, which itself shares a layer; name the original",
                       node=n.id, param="shares")
        elif target.type != n.type or self.specs[n.type].module is None:
            self.error(f"shares {n.shares!r}, a {target.type}: only a layer of the same type "
                       f"with weights can be shared", node=n.id, param="shares")
        elif n.params and self.params.get(n.id) != self.params.get(target.id):
            self.error(f"shares {n.shares!r} but sets other params; leave params empty",
                       node=n.id, param="params")
        elif target.id in self.params:
            self.params[n.id] = self.params[target.id]

    def _infer_shapes(self) -> None:
        report = self.report
        for nid in self.a.order:
            n = self.nodes[nid]
            spec = self.specs.get(n.type)
            if spec is None or report.nodes[nid].errors:
                continue
            ins = self._input_shapes(n)
            if ins is None:
                continue  # an upstream problem is already reported there
            if isinstance(spec, BlockSpec):
                self._instance(n, spec, ins)
                continue
            p = dict(self.params[nid])
            if n.type == "Input":
                p["shape"] = self._input_shape(nid, p.get("shape"))
                if p["shape"] is None:
                    continue
            if spec.infer is not None:
                for name, value in spec.infer(ins, p).items():
                    given = p.get(name)
                    if given is not None and _norm(given) != _norm(value):
                        self.error(f"{name} is {_show(given)} but the incoming tensor "
                                   f"{fmt(ins[0])} gives {_show(value)}", node=nid, param=name)
                    p[name] = value
                    report.nodes[nid].inferred[name] = _show_json(value)
            try:
                shape = spec.rule(ins, p)
            except ShapeError as exc:
                self.error(str(exc), node=nid, param=exc.param)
                continue
            if report.nodes[nid].errors:
                continue
            # A spec with `outputs` (several ports) returns one shape per port.
            ports = ([tuple(s) for s in shape] if getattr(spec, "outputs", None) is not None
                     else [tuple(shape)])
            self.a.out_shapes[nid] = ports
            self.a.shapes[nid] = ports[0]
            self.a.resolved[nid] = p
            report.nodes[nid].output_shape = list(ports[0])
            if getattr(spec, "outputs", None) is not None:
                self.a.multi.add(nid)
                report.nodes[nid].output_shapes = [list(s) for s in ports]
            self._dtype(n, spec, p)
            try:
                count = count_parameters(n.type, _freeze(p))
            except (RuntimeError, ValueError, TypeError) as exc:
                self.error(f"PyTorch refuses these arguments: {_torch_message(exc)}", node=nid)
                continue
            if n.shares is not None:
                # One layer, two calls: the weights are counted once, at the original.
                count = 0
            report.nodes[nid].params = count
            report.total_params += count

    def _instance(self, n: Any, spec: BlockSpec, ins: list[Shape]) -> None:
        """Shapes and weights of one block instance, from the block's own analysis."""
        nid, report = n.id, self.report.nodes[n.id]
        if spec.name in self.stack:
            self.error(f"block {spec.name} uses itself (through "
                       f"{' > '.join(self.stack)}): a block cannot contain itself", node=nid)
            return
        if len(self.stack) >= MAX_DEPTH:
            self.error(f"blocks are nested more than {MAX_DEPTH} deep here", node=nid)
            return
        p = self.params[nid]
        sources = [source(s) for s in n.inputs]
        dtypes = [self.a.dtypes.get(s, "float") for s in sources]
        vocabs = [self._vocab(s) for s in sources]
        key = (spec.name, tuple(map(tuple, ins)), _freeze(p), tuple(dtypes), tuple(vocabs))
        sub = self.expansion.cache.get(key)
        if sub is None:
            self.expansion.nodes += len(spec.block.nodes)
            if self.expansion.nodes > MAX_EXPANDED:
                self.error(f"with its blocks expanded the network has more than "
                           f"{MAX_EXPANDED:,} nodes", node=nid)
                return
            try:
                g = instance_graph(spec, self.g, ins, dtypes, vocabs, p)
            except BlockError as exc:
                self.error(f"in block {spec.name}: {exc}", node=nid)
                return
            sub = _Analyzer(g, _UNLIMITED, self.expansion, (*self.stack, spec.name)).run()
            sub.exposed = dict(p)
            self.expansion.cache[key] = sub
        for issue in sub.validation.all_errors():
            where = issue.node or issue.component
            self.error(f"in block {spec.name}" + (f", {where}: " if where else ": ")
                       + issue.message, node=nid)
        if not sub.valid:
            return
        ports = [sub.shape_of(o) for o in sub.outputs]
        self.a.sub[nid] = sub
        self.a.out_shapes[nid] = ports
        self.a.shapes[nid] = ports[0]
        self.a.resolved[nid] = p
        report.output_shape = list(ports[0])
        if spec.outputs is not None:
            self.a.multi.add(nid)
            report.output_shapes = [list(s) for s in ports]
        self.a.dtypes[nid] = sub.dtypes.get(sub.outputs[0][0], "float")
        count = 0 if n.shares is not None else sub.validation.total_params
        report.params = count
        self.report.total_params += count

    def _check_shared_sizes(self) -> None:
        """A shared layer must see inputs of the sizes its original was built for."""
        for nid, n in self.nodes.items():
            mine, theirs = self.a.resolved.get(nid), self.a.resolved.get(n.shares or "")
            if nid in self.a.sub and self.a.sub[nid] is not self.a.sub.get(n.shares or ""):
                if n.shares in self.a.sub:
                    self.error(f"shares {n.shares!r}, but its inputs have other shapes",
                               node=nid, param="shares")
            elif n.shares is not None and mine is not None and theirs is not None \
                    and mine != theirs:
                self.error(f"shares {n.shares!r}, but its input gives other sizes "
                           f"({_show_diff(theirs, mine)})", node=nid, param="shares")

    def _input_shapes(self, n: Any) -> list[Shape] | None:
        """The shapes along the node's incoming edges; None if one is unknown."""
        out = []
        for item in n.inputs:
            nid, port = ref(item)
            shapes = self.a.out_shapes.get(nid)
            if shapes is None:
                return None
            if port >= len(shapes):
                self.error(f"input {show((nid, port))}: that node has "
                           f"{len(shapes)} output port{'s' if len(shapes) > 1 else ''}",
                           node=n.id, param="inputs")
                return None
            out.append(shapes[port])
        return out

    def _dtype(self, n: Any, spec: LayerSpec, p: dict[str, Any]) -> None:
        if n.type == "Input":
            ds_dtype = getattr(self.a.dataset, "input_dtype", None)
            self.a.dtypes[n.id] = p.get("dtype") or ds_dtype or "float"
            return
        ins = [source(s) for s in n.inputs]
        dtype, problem = result_dtype(spec, n.id, [self.a.dtypes.get(s, "float") for s in ins],
                                      [self._vocab(s) for s in ins], p)
        if problem:
            self.error(problem, node=n.id, param="inputs")
        self.a.dtypes[n.id] = dtype

    def _vocab(self, nid: str) -> int | None:
        """The id bound of an Input (or of the dataset feeding it)."""
        n = self.nodes.get(nid)
        if n is None or n.type != "Input":
            return None
        return n.params.get("vocab") or getattr(self.a.dataset, "vocab_size", None)

    def _input_shape(self, nid: str, given: tuple[int, ...] | None) -> tuple[int, ...] | None:
        ds = self.a.dataset
        if ds is not None and nid == self.a.input_id:  # a dataset feeds the first input
            ds_shape = tuple(ds.input_shape)
            if given is not None and tuple(given) != ds_shape:
                self.error(f"shape {list(given)} does not match the dataset "
                           f"{self.g.data.dataset!r}, whose samples are {list(ds_shape)}",
                           node=nid, param="shape")
                return None
            return ds_shape
        if given is None:
            self.error("Input needs a shape (or a dataset in the graph's data)", node=nid,
                       param="shape")
        return given

    def _check_components(self) -> None:
        g = self.g
        for name, table in (("loss", LOSSES), ("optimizer", OPTIMIZERS),
                            ("scheduler", SCHEDULERS)):
            comp = getattr(g, name)
            if comp is None:
                continue
            spec = table.get(comp.type)
            if spec is None:
                self.error(_unknown(name, comp.type, table), component=name)
                continue
            for err in check_params(spec.params, comp.params).errors:
                self.error(str(err), param=err.param, component=name)
        if g.training is not None and not DEVICE_NAME.fullmatch(g.training.device):
            self.error(f"unknown device {g.training.device[:40]!r}: use auto, cpu, cuda, "
                       "cuda:N or mps", param="device", component="training")
        if g.optimizer is not None:
            p = g.optimizer.params
            if p.get("nesterov") and not p.get("momentum"):
                self.error("nesterov needs momentum above 0", param="nesterov",
                           component="optimizer")
        if g.loss is not None and g.loss.output is not None and self.a.outputs:
            if g.loss.output >= len(self.a.outputs):
                self.error(f"the loss reads output {g.loss.output}, but the graph has "
                           f"{len(self.a.outputs)}", param="output", component="loss")
        loss = LOSSES.get(g.loss.type) if g.loss else None
        ds = self.a.dataset
        if loss is not None and ds is not None:
            if loss.target in ("class", "binary") and ds.task == "regression":
                self.error(f"{loss.type} needs class labels, but {ds.name!r} is a regression "
                           f"dataset; use {DEFAULT_LOSS['regression']}", component="loss")

    def _lint(self) -> None:
        a, g = self.a, self.g
        seq = sequence_nodes(a, self.nodes)
        for nid in a.order:
            n = self.nodes[nid]
            if n.frozen and nid in self.report.nodes and self.report.nodes[nid].params == 0 \
                    and nid in a.resolved:
                self.warn(f"{n.type} has no weights, so freezing it changes nothing", node=nid,
                          param="frozen")
            ins = [a.shape_of(s) for s in n.inputs]
            spec = self.specs.get(n.type)
            # A per-token Linear on a (N, T, F) sequence is meant: no Flatten wanted there.
            if spec and spec.flat_input and ins and ins[0] is not None and len(ins[0]) > 1 \
                    and n.inputs[0] not in seq:
                self.warn(f"{n.type} acts only on the last dimension of {fmt(ins[0])}; put a "
                          f"Flatten before {nid!r} to use all {math.prod(ins[0])} values",
                          node=nid)
        sequence_lints(a, self.nodes, seq, self.warn)
        out = a.output_id
        pick = g.loss.output if g.loss is not None and g.loss.output is not None else 0
        if pick < len(a.outputs):
            out = a.outputs[pick][0]  # lint the output the loss reads
        out_spec = self.specs.get(self.nodes[out].type) if out in self.nodes else None
        if out_spec is None:
            return  # no output, or one of unknown type: already an error
        out_type = out_spec.type
        if out_spec.between_layers:
            self.warn(f"the model's output comes straight from {out_type}; it usually belongs "
                      f"between layers, not at the end", node=out)
        loss = LOSSES.get(g.loss.type) if g.loss else None
        if g.loss is None and self.a.dataset is not None:
            # Training will use the recipe's default loss: lint against that one.
            loss = LOSSES.get(DEFAULT_LOSS.get(self.a.dataset.task, ""))
        if loss is not None:
            self._lint_loss(loss, out, out_type)

    def _lint_loss(self, loss: Any, out: str, out_type: str) -> None:
        produced = self.specs[out_type].produces
        if loss.expects == "logits" and produced is not None:
            self.warn(f"{loss.type} applies {loss.applies} itself and expects raw scores "
                      f"(logits); remove this {out_type}", node=out)
        elif loss.pairs_with is not None and produced != loss.expects:
            self.warn(f"{loss.type} expects {loss.expects.replace('_', '-')}: end the network "
                      f"with {loss.pairs_with}", node=out)
        ds = self.a.dataset
        if ds is None:
            return
        if loss.target == "float" and ds.task in ("classification", "binary"):
            self.warn(f"{loss.type} on class labels: {ds.name!r} is a {ds.task} dataset; "
                      f"use {DEFAULT_LOSS[ds.task]}", component="loss")
        shape = self.a.shapes.get(out)
        if shape is None or ds.task == "regression" and loss.target != "float":
            return
        expected = expected_output_width(ds, loss)
        if expected is not None and shape[-1] != expected:
            what = (f"{ds.num_classes} classes" if ds.task == "classification"
                    else "one score" if expected == 1 else f"{expected} values")
            self.warn(f"the output has width {shape[-1]} but {ds.name!r} needs {what}; set "
                      f"the last layer's size to {expected}", node=out)


def _torch_message(exc: Exception) -> str:
    """PyTorch's own words, without its C++ source locations or stack (first line, cut)."""
    text = str(exc).split("Exception raised from", 1)[0].strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return first[:200]


def _unknown(what: str, name: str, table: dict) -> str:
    if table is LAYERS:  # other names learners bring (Dense, fc, softmax, torch.nn classes)
        return f"unknown {what} {name!r}{suggest(name, table)}"
    close = difflib.get_close_matches(name, table, n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"unknown {what} {name!r}{hint}"


def _unknown_type(name: str, graph: Graph) -> str:
    if name.startswith(BLOCK_PREFIX):
        have = ", ".join(graph.blocks or {}) or "none"
        return f"unknown block {name[len(BLOCK_PREFIX):]!r}: this graph's blocks are {have}"
    return _unknown("layer type", name, LAYERS)


def _too_many(count: int, limits: Limits) -> str:
    return f"the graph has {count} nodes, more than the limit of {limits.max_nodes}"


def expected_output_width(ds: Any, loss: Any) -> int | None:
    """What the last layer should emit for this dataset and loss."""
    if ds.task == "classification":
        return ds.num_classes
    if ds.task == "binary":
        return 2 if loss.target == "class" else 1
    return ds.output_width


@lru_cache(maxsize=4096)
def count_parameters(layer_type: str, frozen_params: tuple) -> int:
    """Parameters of one layer, built on the meta device (no memory allocated)."""
    spec = LAYERS[layer_type]
    if layer_type == "Parameter":  # a tensor, not a module
        return math.prod(dict(frozen_params)["shape"])
    with torch.device("meta"):
        module = spec.build(dict(frozen_params))
    if module is None:
        return 0
    return sum(p.numel() for p in module.parameters())


def _freeze(params: dict[str, Any]) -> tuple:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))


def _show_diff(a: dict[str, Any] | None, b: dict[str, Any]) -> str:
    a = a or {}
    return ", ".join(f"{k}={_show(b[k])} here, {_show(a.get(k))} there"
                     for k in b if a.get(k) != b[k])


def _norm(v: Any) -> Any:
    return tuple(v) if isinstance(v, list | tuple) else v


def _show(v: Any) -> str:
    return str(list(v)) if isinstance(v, tuple) else str(v)


def _show_json(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v


__all__ = [
    "Analysis", "InvalidGraph", "Issue", "Limits", "NodeReport", "ParamError", "Validation",
    "analyze_graph", "count_parameters", "expected_output_width", "require_valid",
    "validate_graph",
]
