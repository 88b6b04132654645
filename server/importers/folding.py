"""Fold an imported model's nested submodules into blocks: one block per submodule class.

The fx import first gives a flat graph: one node per layer call or function,
each knowing the submodules whose `forward` it ran inside (fx records that
stack). This module turns every instance of a submodule class (torchvision's
`BasicBlock`, `_DenseLayer`, `InvertedResidual`) into one `block:<Class>` node
whose nodes are the instance's own, so a ResNet shows as a stem, eight blocks
and a head, and the exported code has one class per submodule class, as the
original does.

Classes fold from the innermost out (a `_DenseBlock` after the `_DenseLayer`s it
holds). The instances of one class become one block when they have the same
layers wired the same way; the constructor values they differ in (a stage's
width, its stride) become the block's exposed params, one per distinct column
of values. Instances wired differently (a `BasicBlock` with or without its
`downsample`) give one block per variant: `BasicBlock`, `BasicBlock2`. When
only their leading weightless steps differ (each `_DenseLayer` concatenates a
different number of earlier features before its first layer), those steps move
out of the block into the caller, which then holds one block for them all.

Names keep the original's `state_dict` keys: an instance is named by its path
relative to its parent (`layer1.0`), its layers by theirs (`conv1`,
`downsample.0`). A class whose members cannot be named that way, or whose
instances are called twice, stays flat. Containers (`nn.Sequential` and
subclasses without their own `forward`, `nn.ModuleList`) are paths, not blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from server.catalog import LAYERS
from server.graph import BLOCK_NAME_PATTERN, BLOCK_PREFIX, NAME_PATTERN
from server.naming import RESERVED
from server.nesting import ATTRIBUTE_CLASH, SEQUENTIAL_ATTRS

_SUFFIX = re.compile(r"_\d+$")
# The module a user's `model.py` runs as (server.importers): shown as `model`.
USER_MODULE_PREFIX = "torchcanvas_import_"


@dataclass
class Item:
    """One node of the graph being folded and where it sits in the module tree."""

    node: dict[str, Any]
    scope: tuple[str, ...]  # the foldable modules it ran inside, outermost first
    path: str | None = None  # module path of a layer call, instance or Parameter
    weighted: bool = False  # holds weights (its path must be kept as its name)


@dataclass
class Folded:
    """The folded graph's nodes, its output and its blocks (name -> block dict)."""

    nodes: list[dict[str, Any]]
    output: Any
    blocks: dict[str, dict[str, Any]] = field(default_factory=dict)


def is_foldable(cls: type) -> bool:
    """A submodule class with a forward of its own (not a plain container)."""
    return getattr(cls, "forward", None) not in (nn.Sequential.forward, nn.Module.forward)


def fold(items: list[Item], output: Any, classes: dict[str, type]) -> Folded:
    """Fold every foldable module in `classes` (path -> class) into block instances."""
    state = _State(items, output)
    for cls in _innermost_first(classes, items):
        paths = [p for p, c in classes.items() if c is cls]
        state.fold_class(cls, _first_seen(state.items, paths))
    for item in state.items:
        # a top-level instance is named by its full path (`layer1.0`), as a layer is
        if item.node["type"].startswith(BLOCK_PREFIX) and not item.scope and can_name(item.path):
            item.node["name"] = item.path
    return Folded([i.node for i in state.items], state.output, state.blocks)


def _first_seen(items: list[Item], paths: list[str]) -> list[str]:
    """The instances in the order their first step runs."""
    wanted, seen = set(paths), []
    for item in items:
        for p in item.scope:
            if p in wanted and p not in seen:
                seen.append(p)
    return seen


def _innermost_first(classes: dict[str, type], items: list[Item]) -> list[type]:
    """Classes ordered so each comes after every class nested inside its instances."""
    inside: dict[type, set[type]] = {c: set() for c in classes.values()}
    for item in items:
        for i, outer in enumerate(item.scope):
            for inner in item.scope[i + 1:]:
                if classes[inner] is not classes[outer]:
                    inside[classes[outer]].add(classes[inner])
    order: list[type] = []
    while inside:
        ready = [c for c, deps in inside.items() if not deps - set(order)]
        if not ready:  # classes nested in each other both ways: leave them flat
            break
        order += ready
        for c in ready:
            del inside[c]
    return order


def _ref_node(ref: Any) -> str:
    return ref if isinstance(ref, str) else ref["node"]


def _ref_key(ref: Any) -> tuple[str, int]:
    return (ref, 0) if isinstance(ref, str) else (ref["node"], ref.get("port", 0))


def _as_ref(key: tuple[str, int], ports: bool) -> Any:
    node, port = key
    return {"node": node, "port": port} if ports or port else node


def can_name(path: str) -> bool:
    """Whether `path` can be a node's `name` (see server.nesting.name_problems)."""
    if not re.match(NAME_PATTERN, path):
        return False
    first, *rest = path.split(".")
    if first in (ATTRIBUTE_CLASH if rest else RESERVED):
        return False
    return all((s.isdigit() or s.isidentifier()) and s not in SEQUENTIAL_ATTRS for s in rest)


class _State:
    def __init__(self, items: list[Item], output: Any):
        self.items = items
        self.output = output
        self.blocks: dict[str, dict[str, Any]] = {}

    # -- one class ------------------------------------------------------------------
    def _index(self) -> None:
        """Who reads each node (`_users`) and where each value is first read."""
        self._users: dict[str, list[tuple[str | None, tuple[str, int]]]] = {}
        self._first_use: dict[tuple[str, int], int] = {}
        reads = [(i.node["id"], r) for i in self.items for r in i.node.get("inputs", [])]
        reads += [(None, r) for r in _refs(self.output)]
        for k, (user, r) in enumerate(reads):
            key = _ref_key(r)
            self._users.setdefault(key[0], []).append((user, key))
            self._first_use.setdefault(key, k)

    def fold_class(self, cls: type, paths: list[str]) -> None:
        self._index()
        shapes = [self._shape(p) for p in paths]
        if any(s is None for s in shapes):
            return  # a member cannot keep its name: the class stays flat
        if len({s.signature for s in shapes}) > 1:
            hoisted = [self._shape(p, hoist=True) for p in paths]
            if all(h is not None for h in hoisted) and \
                    len({h.signature for h in hoisted}) < len({s.signature for s in shapes}):
                shapes = hoisted
        variants: dict[Any, list[_Shape]] = {}
        for s in shapes:
            variants.setdefault(s.signature, []).append(s)
        base = _block_base(cls)
        defined = []  # every definition first: replacing an instance rewires its neighbours
        groups = list(variants.values())
        for k, group in enumerate(groups):
            name = self._free_name(base if k == 0 else _variant_name(base, k, group[0],
                                                                     groups[0][0]))
            block, values = _define(group, cls)
            self.blocks[name] = block
            defined.append((name, block, group, values))
        for name, block, group, values in defined:
            for s, params in zip(group, values, strict=True):
                self._replace(s, name, params, block)

    def _free_name(self, name: str) -> str:
        out, i = name, 2
        while out in self.blocks:
            out = f"{name}_{i}"
            i += 1
        return out

    # -- an instance's shape ----------------------------------------------------------
    def _shape(self, path: str, hoist: bool = False) -> _Shape | None:
        """`path`'s instance as a block, or None when a member cannot keep its name."""
        members = [i for i in self.items if path in i.scope]
        hoisted: list[Item] = []
        if hoist:
            members, hoisted = _leading_steps(members)
        if not members:
            return None
        ids = {i.node["id"] for i in members}
        canon: dict[str, str] = {}
        names: dict[str, str | None] = {}
        counts: dict[str, int] = {}
        for item in members:
            cid, name = _relative(item, path)
            if cid is None:
                if item.weighted:
                    return None  # its weights would change their key
                base = _SUFFIX.sub("", item.node["id"].rsplit(".", 1)[-1]) or "step"
                cid = base if not counts.get(base) else f"{base}_{counts[base]}"
                counts[base] = counts.get(base, 0) + 1
            while cid in canon.values():
                cid += "_"
            canon[item.node["id"]], names[item.node["id"]] = cid, name
        externals: list[tuple[str, int]] = []
        for item in members:
            for r in item.node.get("inputs", []):
                key = _ref_key(r)
                if key[0] not in ids and key not in externals:
                    externals.append(key)
        outputs: list[tuple[str, int]] = []  # what the rest of the graph reads, in order
        for item in members:
            for user, key in self._users.get(item.node["id"], []):
                if user not in ids and key not in outputs:
                    outputs.append(key)
        outputs.sort(key=lambda k: self._first_use[k])
        if not outputs:
            return None
        inputs = {key: (f"x{j}" if len(externals) > 1 else "x") for j, key in enumerate(externals)}
        while any(v in canon.values() for v in inputs.values()):
            inputs = {k: v + "_in" for k, v in inputs.items()}
        steps = []
        for item in members:
            ins = tuple(_freeze(_inner_ref(r, inputs, canon)) for r in item.node.get("inputs", []))
            steps.append((canon[item.node["id"]], item.node["type"], ins,
                          names[item.node["id"]]))
        signature = (len(externals), tuple(steps),
                     tuple((canon[k[0]], k[1]) for k in outputs))
        return _Shape(path=path, members=members, hoisted=hoisted, externals=externals,
                      outputs=outputs, canon=canon, names=names, inputs=inputs,
                      signature=signature)

    # -- replacing an instance's members by one node ----------------------------------
    def _replace(self, shape: _Shape, block_name: str, params: dict[str, Any],
                 block: dict[str, Any]) -> None:
        ids = {i.node["id"] for i in shape.members}
        first = next(k for k, i in enumerate(self.items) if i.node["id"] in ids)
        scope = shape.members[0].scope
        parent = scope[:scope.index(shape.path)]
        for item in shape.hoisted:  # the steps now run in the caller, before the instance
            item.scope = item.scope[:item.scope.index(shape.path)]
        externals: list[tuple[str, int]] = []  # as now wired (a neighbour may be folded)
        for item in shape.members:
            for r in item.node.get("inputs", []):
                key = _ref_key(r)
                if key[0] not in ids and key not in externals:
                    externals.append(key)
        node = {"id": shape.path, "type": f"{BLOCK_PREFIX}{block_name}", "params": params,
                "inputs": [_as_ref(k, False) for k in externals]}
        instance = Item(node=node, scope=parent, path=shape.path,
                        weighted=any(i.weighted for i in shape.members))
        rest = [i for i in self.items if i.node["id"] not in ids]
        rest.insert(first, instance)
        many = isinstance(block.get("output"), list)
        moved = {k: (shape.path, j if many else 0) for j, k in enumerate(shape.outputs)}
        for item in rest:
            if "inputs" in item.node:
                item.node["inputs"] = [_moved(r, moved, many) for r in item.node["inputs"]]
        if isinstance(self.output, list):
            self.output = [_moved(r, moved, many) for r in self.output]
        elif self.output is not None:
            self.output = _moved(self.output, moved, many)
        self.items = rest


@dataclass
class _Shape:
    """One instance seen as a block: its members, boundary and wiring signature."""

    path: str
    members: list[Item]
    hoisted: list[Item]  # leading steps that run in the caller instead
    externals: list[tuple[str, int]]
    outputs: list[tuple[str, int]]
    canon: dict[str, str]  # member id -> id inside the block
    names: dict[str, str | None]  # member id -> its `name` inside the block
    inputs: dict[tuple[str, int], str]
    signature: Any


def _moved(ref: Any, moved: dict[tuple[str, int], tuple[str, int]], many: bool) -> Any:
    key = _ref_key(ref)
    if key not in moved:
        return ref
    return _as_ref(moved[key], many)


def _refs(output: Any) -> list[Any]:
    if output is None:
        return []
    return list(output) if isinstance(output, list) else [output]


def _freeze(value: Any) -> Any:
    return tuple(sorted(value.items())) if isinstance(value, dict) else value


def _inner_ref(ref: Any, inputs: dict[tuple[str, int], str], canon: dict[str, str]) -> Any:
    key = _ref_key(ref)
    if key in inputs:
        return inputs[key]
    return _as_ref((canon[key[0]], key[1]), not isinstance(ref, str))


def _relative(item: Item, path: str) -> tuple[str | None, str | None]:
    """(id, name) inside the instance at `path`: a layer at `layer1.0.conv1` below
    `layer1.0` is `conv1`; `downsample.0` is `downsample_0` named `downsample.0`; a
    repeated call of a weightless layer (`layer1.0.relu_1`) keeps its id's suffix."""
    prefix = path + "."
    if item.path is None or not item.path.startswith(prefix):
        return None, None
    rel = item.path[len(prefix):]
    if not can_name(rel):
        return None, None
    node_id = item.node["id"]
    if node_id == item.path:
        return rel.replace(".", "_"), rel
    if node_id.startswith(item.path + "_") and not item.weighted:
        return rel.replace(".", "_") + node_id[len(item.path):], None
    return None, None


def _leading_steps(members: list[Item]) -> tuple[list[Item], list[Item]]:
    """(members, hoisted): the leading weightless functions fed only from outside (a
    concatenation of earlier features) split off the rest."""
    ids = {i.node["id"] for i in members}
    moved: set[str] = set()
    for item in members:
        feeds = {_ref_node(r) for r in item.node.get("inputs", [])}
        if item.path is None and not item.weighted and \
                all(f not in ids or f in moved for f in feeds):
            moved.add(item.node["id"])
    return ([i for i in members if i.node["id"] not in moved],
            [i for i in members if i.node["id"] in moved])


def _variant_name(base: str, k: int, shape: _Shape, first: _Shape) -> str:
    """`BasicBlockDownsample` for the variant with a `downsample` the first lacks, else
    `BasicBlock2`, `BasicBlock3`..."""
    theirs = {n.split(".")[0] for n in first.names.values() if n}
    extra = [n.split(".")[0] for n in shape.names.values() if n and n.split(".")[0] not in theirs]
    if extra and re.fullmatch(r"[A-Za-z_]+", extra[0]):
        return base + extra[0].title().replace("_", "")
    return f"{base}{k + 1}"


def _block_base(cls: type) -> str:
    name = cls.__name__.lstrip("_") or "Block"
    name = re.sub(r"\W", "_", name)[:60]
    return name if re.match(BLOCK_NAME_PATTERN, name) else "Block"


# -- the block definition -----------------------------------------------------------------


def _defaults(type_: str) -> dict[str, Any]:
    spec = LAYERS.get(type_)
    if spec is None:
        return {}
    from server.catalog import REQUIRED

    from .modules import _plain

    return {p.name: _plain(p.default) for p in spec.params if p.default is not REQUIRED}


def _inferred(type_: str) -> set[str]:
    spec = LAYERS.get(type_)
    return {p.name for p in spec.params if p.inferred} if spec is not None else set()


def _define(group: list[_Shape], cls: type) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The block shared by `group` (same wiring) and each instance's param values."""
    first = group[0]
    columns: dict[tuple[str, str], list[Any]] = {}  # (member id, param) -> value per instance
    for k, member in enumerate(first.members):
        type_ = member.node["type"]
        defaults = _defaults(type_) if not type_.startswith(BLOCK_PREFIX) else {}
        skip = _inferred(type_)
        keys: list[str] = []
        for s in group:
            for key in s.members[k].node.get("params", {}):
                if key not in keys and key not in skip:
                    keys.append(key)
        for key in keys:
            columns[(first.canon[member.node["id"]], key)] = [
                s.members[k].node.get("params", {}).get(key, defaults.get(key)) for s in group]
    # One exposed param per distinct column that varies; a name per param key when unique.
    varying: dict[str, list[tuple[str, str]]] = {}
    for where, values in columns.items():
        if any(v != values[0] for v in values):
            varying.setdefault(repr(values), []).append(where)
    keys_used = [wheres[0][1] for wheres in varying.values()]
    exposed: dict[tuple[str, str], str] = {}
    params: dict[str, dict[str, Any]] = {}
    for wheres in varying.values():
        member, key = wheres[0]
        name = key if keys_used.count(key) == 1 else f"{member}_{key}"
        name = name if name not in params else f"{member}_{key}"
        params[name] = {"default": columns[wheres[0]][0]}
        for w in wheres:
            exposed[w] = name
    nodes = [{"id": v, "type": "Input"} for v in dict.fromkeys(first.inputs.values())]
    for member in first.members:
        cid = first.canon[member.node["id"]]
        node: dict[str, Any] = {"id": cid, "type": member.node["type"]}
        own = {}
        for (mid, key), values in columns.items():
            if mid != cid:
                continue
            if (mid, key) in exposed:
                own[key] = f"${exposed[(mid, key)]}"
            elif key in member.node.get("params", {}):
                own[key] = values[0]
        node["params"] = own
        ins = [_inner_ref(r, first.inputs, first.canon) for r in member.node.get("inputs", [])]
        if ins:
            node["inputs"] = ins
        if first.names[member.node["id"]] is not None:
            node["name"] = first.names[member.node["id"]]
        nodes.append(node)
    outs = [_as_ref((first.canon[k[0]], k[1]), False) for k in first.outputs]
    block: dict[str, Any] = {"nodes": nodes, "output": outs[0] if len(outs) == 1 else outs,
                             "description": _description(cls)}
    if len(first.inputs) > 1:
        block["inputs"] = list(dict.fromkeys(first.inputs.values()))
    if params:
        block["params"] = params
    values = [{name: columns[wheres[0]][j] for wheres, name in
               zip(varying.values(), params, strict=True)} for j in range(len(group))]
    return block, values


def _description(cls: type) -> str:
    doc = (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    where = f"{cls.__module__.removeprefix(USER_MODULE_PREFIX)}.{cls.__qualname__}"
    text = f"{where}: {doc}" if doc else f"Imported from {where}"
    return text[:2000]
