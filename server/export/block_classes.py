"""One exported class per block: which classes, and what their constructors take.

Every instance of a block is analysed with its own input shapes, so two instances
may resolve an inner layer's sizes differently (`layer1`'s convolutions see 64
channels, `layer2`'s 128). The exported class must build both, so every
constructor value that differs between instances becomes an argument of the
class, as a person writes `BasicBlock(inplanes, planes, stride)`:

- values that vary together (conv1's out_channels, bn1's num_features and conv2's
  in_channels are all `planes`) share one argument;
- an argument is named after the block's exposed param with the same values, else
  after the layer param (`in_channels`), else `<node>_<param>`;
- values that are the same in every instance stay literals in the class.

Instances that differ in what `forward` itself does (a Select's index, a Reshape's
shape) cannot share a class: they get classes of their own (`Block`, `Block2`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from server.blocks import BlockSpec
from server.naming import Namespace, class_name, identifier
from server.validation import Analysis


class Code(str):
    """A constructor argument written as code (a parameter's name), not as a literal."""


@dataclass
class BlockClass:
    name: str  # the exported class name
    block: str  # the block definition it writes
    analysis: Analysis  # one of its instances: the code is written from it
    args: list[str] = field(default_factory=list)
    arg_of: dict[tuple[str, str], str] = field(default_factory=dict)  # (node, param) -> arg
    values: dict[int, list[Any]] = field(default_factory=dict)  # id(instance) -> arg values
    varying_shapes: set[str] = field(default_factory=set)  # nodes whose shapes differ

    def call(self, instance: Analysis) -> str:
        from .module import _literal

        return f"{self.name}({', '.join(_literal(v) for v in self.values[id(instance)])})"


def plan_classes(top: Analysis, taken: set[str]) -> list[BlockClass]:
    """The block classes of a graph, inner blocks first (each is used by the ones after)."""
    instances: dict[str, list[Analysis]] = {}
    order: list[str] = []

    def walk(a: Analysis) -> None:
        for nid in a.order:
            sub = a.sub.get(nid)
            if sub is None:
                continue
            name = a.specs[_node(a, nid).type].name
            seen = instances.setdefault(name, [])
            if all(s is not sub for s in seen):
                seen.append(sub)
                walk(sub)
            if name not in order:
                order.append(name)

    walk(top)
    # Post-order: a block's inner blocks are written before it.
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name in ordered:
            return
        for sub in instances[name]:
            for nid in sub.sub:
                visit(sub.specs[_node(sub, nid).type].name)
        ordered.append(name)

    for name in order:
        visit(name)
    names = Namespace(taken)
    classes: list[BlockClass] = []
    of_instance: dict[int, BlockClass] = {}
    for block in ordered:
        groups: dict[tuple, list[Analysis]] = {}
        for sub in instances[block]:
            groups.setdefault(_forward_signature(sub, of_instance), []).append(sub)
        for group in groups.values():
            base = class_name(block)
            cls = BlockClass(name=_class_name(names, base), block=block, analysis=group[0])
            _arguments(cls, group, of_instance)
            for sub in group:
                of_instance[id(sub)] = cls
            classes.append(cls)
    return classes


def class_of(classes: list[BlockClass], instance: Analysis) -> BlockClass:
    for cls in classes:
        if id(instance) in cls.values:
            return cls
    raise KeyError("no class for this block instance")


def _class_name(names: Namespace, base: str) -> str:
    name, i = base, 2
    while name in names.taken:
        name = f"{base}{i}"
        i += 1
    names.taken.add(name)
    return name


def _node(a: Analysis, nid: str) -> Any:
    return next(n for n in a.graph.nodes if n.id == nid)


def _constructor_values(a: Analysis, nid: str, of_instance: dict[int, BlockClass]
                        ) -> dict[str, Any] | None:
    """What the constructor call of a node is written from, or None (no constructor)."""
    node = _node(a, nid)
    if node.shares is not None or node.type in ("Input", "Parameter"):
        return None
    spec = a.specs[node.type]
    if isinstance(spec, BlockSpec):
        cls = of_instance[id(a.sub[nid])]
        return dict(zip(cls.args, cls.values[id(a.sub[nid])], strict=True))
    if spec.module is None:
        return None
    return {k: v for k, v in a.resolved[nid].items() if k not in spec.node_params}


def _forward_signature(a: Analysis, of_instance: dict[int, BlockClass]) -> tuple:
    """What the written forward depends on beyond constructor values."""
    out = []
    for nid in a.order:
        node = _node(a, nid)
        if node.type == "Input":
            continue
        spec = a.specs[node.type]
        if isinstance(spec, BlockSpec):
            out.append((nid, of_instance[id(a.sub[nid])].name))
        elif node.type == "Parameter":
            out.append((nid, _frozen(a.resolved[nid])))
        else:
            keep = (a.resolved[nid] if spec.module is None
                    else {k: a.resolved[nid][k] for k in spec.node_params
                          if k in a.resolved[nid]})
            out.append((nid, _frozen(keep)))
    return tuple(out)


def _arguments(cls: BlockClass, group: list[Analysis],
               of_instance: dict[int, BlockClass]) -> None:
    first = group[0]
    vectors: dict[tuple, list[tuple[str, str]]] = {}
    for nid in first.order:
        values = [_constructor_values(sub, nid, of_instance) for sub in group]
        if values[0] is None:
            continue
        for param in values[0]:
            vector = tuple(_hashable(v.get(param)) for v in values)
            if len(set(vector)) > 1:
                vectors.setdefault(vector, []).append((nid, param))
        shapes = {tuple(sub.out_shapes.get(nid, ())) for sub in group}
        if len(shapes) > 1:
            cls.varying_shapes.add(nid)
    for nid in first.order:  # shapes of nodes without constructors may vary too
        if len({tuple(sub.out_shapes.get(nid, ())) for sub in group}) > 1:
            cls.varying_shapes.add(nid)
    exposed = {name: tuple(_hashable(sub.exposed.get(name)) for sub in group)
               for name in first.exposed}
    used = Namespace()
    for vector, members in vectors.items():
        nid, param = members[0]
        by_exposed = [name for name, v in exposed.items() if v == vector]
        if by_exposed:
            wanted = by_exposed[0]
        else:
            wanted = param if param not in used.taken else f"{identifier(nid)}_{param}"
        arg = used.name(wanted, "arg")
        cls.args.append(arg)
        for member in members:
            cls.arg_of[member] = arg
    for i, sub in enumerate(group):
        cls.values[id(sub)] = [vector[i] for vector in vectors]


def _hashable(v: Any) -> Any:
    return tuple(_hashable(x) for x in v) if isinstance(v, list | tuple) else v


def _frozen(params: dict[str, Any]) -> tuple:
    return tuple(sorted((k, _hashable(v)) for k, v in params.items()))
