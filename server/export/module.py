"""The `module` export: imports, one nn.Module class and a smoke test.

The class is built from the catalogue (constructor calls with explicit sizes,
positional where PyTorch users write them so), and `forward` has one line per
node with the output shape as a comment. A linear chain reuses one variable;
a value used twice gets a name of its own.
"""

from __future__ import annotations

import inspect
from typing import Any

from server.catalog import LAYERS, REQUIRED, fmt
from server.naming import class_name, identifier, node_names
from server.ports import ref
from server.validation import Analysis

INDENT = "    "


def module_source(analysis: Analysis) -> str:
    return "\n".join([header(analysis, "a PyTorch model"), "import torch", "from torch import nn",
                      *layer_imports(analysis), "", "", class_source(analysis), "", "",
                      main_block(analysis)]) + "\n"


def layer_imports(analysis: Analysis) -> list[str]:
    """Imports that layers from outside torch.nn need (torchvision's StochasticDepth)."""
    return sorted({line for _, spec, _ in analysis.layers() for line in spec.imports()})


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
    g = analysis.graph
    names = node_names(analysis.order)
    init, body = [], []
    variables = _variables(analysis, names)
    in_vars = [variables[(i, 0)] for i in analysis.input_ids]
    for node, spec, params in analysis.layers():
        nid = node.id
        args = [variables[ref(i)] for i in node.inputs]
        if node.type == "Parameter":  # a learned tensor, expanded over the batch
            dims = ", ".join(map(str, (1, *params["shape"])))
            init.append(f"self.{names[nid]} = nn.Parameter(torch.{params['init']}({dims}))")
            minus = ", ".join(["-1"] * len(params["shape"]))
            last = (f"{variables[(nid, 0)]} = "
                    f"self.{names[nid]}.expand({in_vars[0]}.size(0), {minus})")
        elif node.shares is not None:  # weight sharing: one module, called again
            last = f"{variables[(nid, 0)]} = self.{names[node.shares]}({', '.join(args)})"
        elif spec.module is not None:
            init.append(f"self.{names[nid]} = {constructor(node.type, params)}")
            *before, last = spec.call_lines(f"self.{names[nid]}", args,
                                            variables.get((nid, 0), "_"), params)
            body += [(line, None) for line in before]
        elif spec.call is not None:  # tensor code of a few lines (attention by hand)
            *before, last = spec.call(None, args, variables[(nid, 0)], params)
            body += [(line, None) for line in before]
        else:
            last = f"{variables[(nid, 0)]} = {spec.expression(args, params)}"
        if nid in analysis.multi:  # unpacked right where it is called: mu, logvar = ...
            ports = range(len(analysis.out_shapes[nid]))
            target = ", ".join(variables.get((nid, p), "_") for p in ports)
            shape = ", ".join(fmt(s) for s in analysis.out_shapes[nid])
            last = f"{target} = {spec.expression(args, params)}"
        else:
            shape = fmt(analysis.shapes[nid])
        body.append((last, shape))
    width = max((len(line) for line, _ in body), default=0)
    lines = [f"class {class_name(g.name)}(nn.Module):",
             f"{INDENT}def __init__(self):",
             f"{INDENT * 2}super().__init__()"]
    lines += [f"{INDENT * 2}{line}" for line in init]
    lines += ["", f"{INDENT}def forward(self, {', '.join(in_vars)}):"]
    lines += [f"{INDENT * 2}# {v}: {fmt(analysis.shapes[i])}"
              for v, i in zip(in_vars, analysis.input_ids, strict=True)]
    lines += [f"{INDENT * 2}{line.ljust(width)}  # {shape}" if shape else f"{INDENT * 2}{line}"
              for line, shape in body]
    returned = ", ".join(variables[o] for o in analysis.outputs)
    lines.append(f"{INDENT * 2}return {returned}")
    return "\n".join(lines)


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
    if isinstance(value, bool | int | float | str) or value is None:
        return repr(value)
    raise TypeError(f"cannot write {value!r} as a literal")
