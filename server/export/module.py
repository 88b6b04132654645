"""The `module` export: imports, one nn.Module class and a smoke test.

The class is built from the catalogue (constructor calls with explicit sizes,
positional where PyTorch users write them so), and `forward` has one line per
node with the output shape as a comment. A linear chain reuses one variable;
a value used twice gets a name of its own.
"""

from __future__ import annotations

import inspect
from typing import Any

from server.blocks import BlockSpec
from server.catalog import LAYERS, REQUIRED, fmt
from server.naming import RESERVED, class_name, identifier
from server.nesting import Entry, attr_names, containers, module_tree, path_expression
from server.ports import ref
from server.validation import Analysis

from .block_classes import BlockClass, Code, class_of, plan_classes

INDENT = "    "


ORDERED_DICT = "from collections import OrderedDict"


def module_source(analysis: Analysis) -> str:
    imports = layer_imports(analysis)
    stdlib = [line for line in imports if line == ORDERED_DICT]
    return "\n".join([header(analysis, "a PyTorch model"), *stdlib, "import torch",
                      "from torch import nn", *[i for i in imports if i not in stdlib], "", "",
                      class_source(analysis), "", "", main_block(analysis)]) + "\n"


def layer_imports(analysis: Analysis) -> list[str]:
    """Imports the classes need beyond torch and nn: layers from outside torch.nn
    (torchvision's StochasticDepth), OrderedDict for containers with named members."""
    lines: set[str] = set()
    for a in _all_analyses(analysis):
        lines |= {line for _, spec, _ in a.layers() for line in spec.imports()}
        names = attr_names(a.graph, a.order)
        if any(not _numbered(members)
               for members in containers(module_tree(a.order, names, set(a.order))).values()):
            lines.add(ORDERED_DICT)
    return sorted(lines)


def _all_analyses(analysis: Analysis) -> list[Analysis]:
    """The graph's analysis and each distinct block instance's, nested ones too."""
    out, stack = [], [analysis]
    while stack:
        a = stack.pop()
        if all(a is not b for b in out):
            out.append(a)
            stack.extend(a.sub.values())
    return out


def header(analysis: Analysis, what: str) -> str:
    g = analysis.graph
    total = analysis.validation.total_params
    ins = ", ".join(fmt(analysis.shapes[i]) for i in analysis.input_ids)
    out = ", ".join(fmt(analysis.shape_of(o)) for o in analysis.outputs)
    plural = "s" if len(analysis.input_ids) > 1 else ""
    outs = "s" if analysis.output_tuple and len(analysis.outputs) > 1 else ""
    # The graph name is user text: keep it to a sanitized identifier in the docstring.
    return (f'"""{class_name(g.name)}: {what} exported by torchcanvas.\n\n'
            f"Input{plural} {ins} -> output{outs} {out}; {total:,} trainable parameters.\n"
            f'"""\n')


def class_source(analysis: Analysis) -> str:
    """The model's class, after one class per block it uses (inner blocks first)."""
    main = class_name(analysis.graph.name)
    classes = plan_classes(analysis, RESERVED | {main}) if analysis.sub else []
    texts = [_class_text(c.analysis, c.name, c, classes) for c in classes]
    texts.append(_class_text(analysis, main, None, classes))
    return "\n\n\n".join(texts)


def _class_text(analysis: Analysis, name: str, cls: BlockClass | None,
                classes: list[BlockClass]) -> str:
    """One nn.Module class: `__init__` builds the layers (containers as nn.Sequential),
    `forward` has a line per node (a chain inside a container is one call)."""
    names = attr_names(analysis.graph, analysis.order)
    variables = _variables(analysis, {nid: n.replace(".", "_") for nid, n in names.items()})
    in_vars = [variables[(i, 0)] for i in analysis.input_ids]
    layers = {node.id: (node, spec, params) for node, spec, params in analysis.layers()}
    owners = {nid for nid, (node, spec, _) in layers.items()
              if node.shares is None and (node.type == "Parameter" or spec.module is not None)}
    tree = module_tree(analysis.order, names, owners)
    members = containers(tree)
    chains = _chain_calls(tree, analysis, layers)
    inside = {nid for path, _ in chains.values() for nid in _leaves(tree, path)}

    def build(nid: str) -> str:
        return _constructor(nid, analysis, layers[nid], cls, classes)

    init = []
    for entry in tree:
        lines = [build(entry.node)] if entry.node is not None else _sequential(entry, build)
        init += [f"self.{entry.path} = {lines[0]}", *lines[1:]]
    body = []
    for node, spec, params in layers.values():
        nid = node.id
        args = [variables[ref(i)] for i in node.inputs]
        shape = (None if cls is not None and nid in cls.varying_shapes
                 else fmt(analysis.shapes[nid]))
        if nid in chains:  # the whole container in one call: x = self.layer1(x)
            path, first = chains[nid]
            source = variables[ref(layers[first][0].inputs[0])]
            body.append((f"{variables[(nid, 0)]} = {path_expression(path, members)}({source})",
                         shape))
            continue
        if nid in inside:
            continue
        if node.type == "Parameter":  # a learned tensor, expanded over the batch
            minus = ", ".join(["-1"] * len(params["shape"]))
            last = (f"{variables[(nid, 0)]} = "
                    f"self.{names[nid]}.expand({in_vars[0]}.size(0), {minus})")
        elif node.shares is not None:  # weight sharing: one module, called again
            last = (f"{_targets(analysis, nid, variables)} = "
                    f"{path_expression(names[node.shares], members)}({', '.join(args)})")
        elif isinstance(spec, BlockSpec):
            last = (f"{_targets(analysis, nid, variables)} = "
                    f"{path_expression(names[nid], members)}({', '.join(args)})")
        elif spec.module is not None:
            *before, last = spec.call_lines(path_expression(names[nid], members), args,
                                            variables.get((nid, 0), "_"), params)
            body += [(line, None) for line in before]
        else:
            last = f"{variables[(nid, 0)]} = {spec.expression(args, params)}"
        if nid in analysis.multi:  # unpacked right where it is called: mu, logvar = ...
            if not isinstance(spec, BlockSpec) and node.shares is None:
                last = f"{_targets(analysis, nid, variables)} = {spec.expression(args, params)}"
            if shape is not None:
                shape = ", ".join(fmt(s) for s in analysis.out_shapes[nid])
        body.append((last, shape))
    width = max((len(line) for line, _ in body), default=0)
    lines = [f"class {name}(nn.Module):"]
    described = _description(analysis, cls) if cls is not None else None
    if described:
        lines += [f'{INDENT}"""{described}"""', ""]
    params = "".join(f", {a}" for a in (cls.args if cls is not None else []))
    lines += [f"{INDENT}def __init__(self{params}):", f"{INDENT * 2}super().__init__()"]
    lines += [f"{INDENT * 2}{line}" for line in init]
    lines += ["", f"{INDENT}def forward(self, {', '.join(in_vars)}):"]
    lines += [f"{INDENT * 2}# {v}: {fmt(analysis.shapes[i])}"
              for v, i in zip(in_vars, analysis.input_ids, strict=True)
              if cls is None or i not in cls.varying_shapes]
    lines += [f"{INDENT * 2}{line.ljust(width)}  # {shape}" if shape else f"{INDENT * 2}{line}"
              for line, shape in body]
    returned = ", ".join(variables[o] for o in analysis.outputs)
    lines.append(f"{INDENT * 2}return {returned}")
    return "\n".join(lines)


def _description(analysis: Analysis, cls: BlockClass) -> str | None:
    """The block's description as one docstring line (user text: nothing can end it)."""
    block = (analysis.graph.blocks or {}).get(cls.block)
    text = " ".join((block.description or "").split()) if block is not None else ""
    text = "".join(c for c in text if c.isprintable() and c not in '"\\')
    return text[:200] or None


def _targets(analysis: Analysis, nid: str, variables: dict) -> str:
    if nid not in analysis.multi:
        return variables.get((nid, 0), "_")
    return ", ".join(variables.get((nid, p), "_") for p in range(len(analysis.out_shapes[nid])))


def _constructor(nid: str, analysis: Analysis, layer: tuple, cls: BlockClass | None,
                 classes: list[BlockClass]) -> str:
    node, spec, params = layer
    args = cls.arg_of if cls is not None else {}
    if node.type == "Parameter":
        dims = ", ".join(map(str, (1, *params["shape"])))
        return f"nn.Parameter(torch.{params['init']}({dims}))"
    if isinstance(spec, BlockSpec):
        inner = class_of(classes, analysis.sub[nid])
        values = [Code(args[(nid, a)]) if (nid, a) in args else v
                  for a, v in zip(inner.args, inner.values[id(analysis.sub[nid])], strict=True)]
        return f"{inner.name}({', '.join(_literal(v) for v in values)})"
    given = {k: (Code(args[(nid, k)]) if (nid, k) in args else v) for k, v in params.items()}
    return constructor(node.type, given)


def _sequential(entry: Entry, build: Any) -> list[str]:
    """An nn.Sequential literal for a container: numbered members positionally, named
    ones in an OrderedDict (their names are the state_dict keys)."""
    segs = [c.path.rsplit(".", 1)[-1] for c in entry.children]
    numbered = _numbered(segs)
    lines = ["nn.Sequential(" if numbered else "nn.Sequential(OrderedDict(["]
    for seg, child in zip(segs, entry.children, strict=True):
        item = [build(child.node)] if child.node is not None else _sequential(child, build)
        if numbered:
            item[-1] += ","
        else:
            item[0] = f'("{seg}", {item[0]}'
            item[-1] += "),"
        lines += [INDENT + line for line in item]
    lines.append(")" if numbered else "]))")
    return lines


def _numbered(segs: list[str]) -> bool:
    return segs == [str(i) for i in range(len(segs))]


def _leaves(tree: list[Entry], path: str) -> list[str]:
    for entry in tree:
        if entry.path == path:
            return entry.leaves()
        if entry.node is None and path.startswith(entry.path + "."):
            return _leaves(entry.children, path)
    return []


def _chain_calls(tree: list[Entry], analysis: Analysis,
                 layers: dict[str, tuple]) -> dict[str, tuple[str, str]]:
    """Containers whose layers form a chain (each reads the one before, and only the next
    reads it), by their last node: (container path, first node)."""
    shared = {n.shares for n in analysis.graph.nodes if n.shares is not None}
    outputs = {nid for nid, _ in analysis.outputs}
    found: dict[str, tuple[str, str]] = {}

    def chain(leaves: list[str]) -> bool:
        for i, nid in enumerate(leaves):
            node, spec, _ = layers[nid]
            if (nid in analysis.multi or node.type == "Parameter" or nid in shared
                    or spec.call is not None or len(node.inputs) != 1):
                return False
            if i > 0 and ref(node.inputs[0]) != (leaves[i - 1], 0):
                return False
            if i < len(leaves) - 1 and (analysis.consumers.get(nid) != [leaves[i + 1]]
                                        or nid in outputs):
                return False
        return True

    def consider(entry: Entry) -> None:
        if entry.node is not None:
            return
        leaves = entry.leaves()
        if chain(leaves):
            found[leaves[-1]] = (entry.path, leaves[0])
            return
        for child in entry.children:
            consider(child)

    for entry in tree:
        consider(entry)
    return found


def main_block(analysis: Analysis) -> str:
    lines = ['if __name__ == "__main__":',
             f"{INDENT}model = {class_name(analysis.graph.name)}()",
             f"{INDENT}print(model)"]
    args = []
    for i, nid in enumerate(analysis.input_ids):
        shape = ", ".join(map(str, analysis.shapes[nid]))
        name = "x" if i == 0 else f"x{i + 1}"
        if analysis.dtypes.get(nid) == "long":
            vocab = analysis.resolved[nid].get("vocab") or 2
            lines.append(f"{INDENT}{name} = torch.randint(0, {vocab}, (2, {shape}))")
        else:
            lines.append(f"{INDENT}{name} = torch.randn(2, {shape})")
        args.append(name)
    call = f"model({', '.join(args)})"
    if analysis.output_tuple:
        sizes = ", ".join(f"[2, {', '.join(map(str, analysis.shape_of(o)))}]"
                          for o in analysis.outputs)
        lines.append(f"{INDENT}print([y.shape for y in {call}])  # {sizes}")
    else:
        out = ", ".join(map(str, analysis.shape_of(analysis.outputs[0])))
        lines.append(f"{INDENT}print({call}.shape)  # torch.Size([2, {out}])")
    return "\n".join(lines)


def constructor(layer_type: str, params: dict[str, Any]) -> str:
    """`nn.Conv2d(1, 16, 3, padding=1)`: sizes positional, non-defaults by keyword."""
    spec = LAYERS[layer_type]
    args = [_literal(_positional_value(name, params[name])) for name in spec.positional]
    for p in spec.params:
        if p.name in spec.positional or p.name in spec.node_params:
            continue
        value = params.get(p.name)
        # Omit only what PyTorch itself defaults to: the catalogue's default may differ
        # (Softmax's dim is 1 here, None in PyTorch).
        default = dict(spec.hidden_defaults).get(p.name, REQUIRED)
        if default is REQUIRED:
            default = torch_default(spec.torch_class(), p.name)
        if same_value(value, default):
            continue
        args.append(f"{p.name}={_literal(value)}")
    prefix = "" if spec.import_from else "nn."
    return f"{prefix}{spec.module}({', '.join(args)})"


def torch_default(cls: type, name: str) -> Any:
    """The default PyTorch's constructor gives argument `name`, or REQUIRED."""
    param = inspect.signature(cls.__init__).parameters.get(name)
    if param is None or param.default is inspect.Parameter.empty:
        return REQUIRED
    return param.default


def _variables(analysis: Analysis, names: dict[str, str]) -> dict[tuple[str, int], str]:
    """A variable per (node, port) value, named as a person writes `forward`.

    The first input is `x` unless its id is a usable name of its own (`image`);
    other inputs keep their ids' names. A chain keeps its input's variable
    (`x = self.fc(x)`); a branch that must not overwrite a value still needed gets
    `out`, then `out2`, ... (a name is free again once its value has no reader
    left); a merge reuses a name that dies there, preferring the input's
    (`x = out + x`). A node with several outputs names each port that is read
    `<node>_<port>` (`halves_0, halves_1 = x.chunk(2, dim=1)`), and one of several
    returned values that starts a value of its own keeps its node's name. Node ids never
    become chain variables: `layer1_0_conv1 = self.layer1_0_bn2(layer1_0_conv1)`
    read badly. Exports before this rule differ only in these local names.
    """
    nodes = {n.id: n for n in analysis.graph.nodes}
    order = analysis.order
    at = {nid: i for i, nid in enumerate(order)}
    # The step after which a value is never read again (outputs live to `return`).
    last = {nid: max((at[c] for c in analysis.consumers.get(nid, [])), default=at[nid])
            for nid in order}
    for nid, _ in analysis.outputs:
        last[nid] = len(order)
    used = {ref(i) for n in analysis.graph.nodes for i in n.inputs} | set(analysis.outputs)
    first_id = analysis.input_ids[0] if analysis.input_ids else analysis.input_id
    own = identifier(first_id)
    first = own if names[first_id] == own and own not in _GENERATED else "x"
    fixed = {first} | {names[i] for i in analysis.input_ids[1:]}

    def rank(name: str) -> tuple[int, int, str]:
        return (name != first, len(name), name)

    out: dict[tuple[str, int], str] = {}
    holder: dict[str, str] = {}  # variable -> the node whose value it holds now
    for i, nid in enumerate(order):
        if nid in analysis.multi:
            for port in range(len(analysis.out_shapes[nid])):
                if (nid, port) in used:
                    out[(nid, port)] = f"{names[nid]}_{port}"
            continue
        live = {v for v, h in holder.items() if last[h] > i}
        ins = [ref(s) for s in nodes[nid].inputs]
        # A port's own name (`halves_0`) is never reused for another value.
        dying = {out[s] for s in ins if last[s[0]] == i and s[0] not in analysis.multi}
        if nid == first_id:
            name = first
        elif nid in analysis.input_ids:
            name = names[nid]
        elif len(ins) == 1 and dying:
            name = out[ins[0]]
        elif dying:
            name = min(dying | ({first} - live), key=rank)
        elif len(analysis.outputs) > 1 and (nid, 0) in analysis.outputs:
            name = names[nid]  # one of several returned values: `return mu, sigma`
        else:
            name = next(v for v in _GENERATED if v not in live and v not in fixed)
        out[(nid, 0)] = name
        holder[name] = nid
    return out


# Names for values that need one of their own: `out`, `out2`, ... (enough for any graph).
class _Names:
    def __contains__(self, name: object) -> bool:
        return name == "out" or (isinstance(name, str) and name[:3] == "out" and name[3:].isdigit())

    def __iter__(self):
        yield "out"
        n = 2
        while True:
            yield f"out{n}"
            n += 1


_GENERATED = _Names()


def _positional_value(name: str, value: Any) -> Any:
    # nn.LayerNorm(64) reads better than nn.LayerNorm([64]); both build the same layer.
    if name == "normalized_shape" and len(value) == 1:
        return value[0]
    return value


def same_value(a: Any, b: Any) -> bool:
    """Whether two param values are the same argument (lists and tuples alike)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b  # 0 == False in Python, but not as a constructor argument

    def norm(v: Any) -> Any:
        return tuple(v) if isinstance(v, list | tuple) else v

    return norm(a) == norm(b)


def _literal(value: Any) -> str:
    """A Python literal for a checked param value (numbers, bools, strings, sequences)."""
    if isinstance(value, list | tuple):
        items = ", ".join(_literal(v) for v in value)
        return f"({items},)" if len(value) == 1 else f"({items})"
    if isinstance(value, Code):
        return str(value)
    if isinstance(value, bool | int | float | str) or value is None:
        return repr(value)
    raise TypeError(f"cannot write {value!r} as a literal")
