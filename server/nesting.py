"""Attribute paths: where each node's layer lives in the module, nested or not.

By default a node's layer is a direct attribute named from its id (`self.fc1`),
as it always was. A node may instead give a dotted `name` such as
`layer1.0.conv1`: its layer then sits inside containers (`nn.Sequential`s, one per
dotted prefix), so the module's `state_dict` keys equal torchvision's and an
original checkpoint loads without any key mapping.

The compiler and the exporter both build modules in `construction_order`: the
containers' members together, in the order their first layer runs. The same order
in both means the same seed gives the same initial weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import nn

from server.naming import RESERVED, Namespace, node_names

# A container member named like one of nn.Sequential's own attributes would shadow it.
SEQUENTIAL_ATTRS = set(dir(nn.Sequential)) | set(vars(nn.Sequential()))


def attr_names(graph: Any, order: list[str]) -> dict[str, str]:
    """Each node's attribute path: its `name`, or an identifier from its id."""
    nodes = {n.id: n for n in graph.nodes}
    explicit = {nid: nodes[nid].name for nid in order if getattr(nodes[nid], "name", None)}
    if not explicit:
        return node_names(order)
    ns = Namespace(RESERVED | {path.split(".")[0] for path in explicit.values()})
    return {nid: explicit.get(nid) or ns.name(nid) for nid in order}


def name_problems(graph: Any) -> list[tuple[str, str]]:
    """(node id, message) for names that cannot become attribute paths."""
    problems = []
    seen: dict[str, str] = {}
    for n in graph.nodes:
        if not getattr(n, "name", None):
            continue
        first, *rest = n.name.split(".")
        if first in RESERVED:
            problems.append((n.id, f"name {n.name!r}: {first!r} is a Python or nn.Module name; "
                             "choose another"))
        for seg in rest:
            if not (seg.isdigit() or seg.isidentifier()) or seg in SEQUENTIAL_ATTRS:
                problems.append((n.id, f"name {n.name!r}: {seg!r} cannot name a member of a "
                                 "container (use a number or an identifier that is not an "
                                 "nn.Sequential method)"))
        if n.shares is not None:
            problems.append((n.id, "a node that shares another's layer has no layer of its "
                             "own to name; remove its name"))
        if n.type == "Parameter" and rest:
            problems.append((n.id, "a Parameter cannot sit inside a container: give it a name "
                             "without dots (or put it in a block)"))
        if n.name in seen:
            problems.append((n.id, f"name {n.name!r} is already used by {seen[n.name]!r}"))
        seen.setdefault(n.name, n.id)
    paths = set(seen)
    for path, nid in seen.items():
        parts = path.split(".")
        for i in range(1, len(parts)):
            prefix = ".".join(parts[:i])
            if prefix in paths:
                problems.append((nid, f"name {path!r} would put a layer inside {prefix!r}, "
                                 f"which is a layer ({seen[prefix]!r}), not a container"))
    return problems


@dataclass
class Entry:
    """A layer (`node` set) or a container of entries, at `path`."""

    path: str
    position: int
    node: str | None = None
    children: list[Entry] = field(default_factory=list)

    def leaves(self) -> list[str]:
        if self.node is not None:
            return [self.node]
        return [nid for child in self.children for nid in child.leaves()]


def module_tree(order: list[str], names: dict[str, str], owners: set[str]) -> list[Entry]:
    """The top-level entries for the nodes in `owners` (those with a layer or tensor of their
    own), members of each container in the order their first layer runs."""
    at = {nid: i for i, nid in enumerate(order)}
    root = Entry("", -1)
    containers: dict[str, Entry] = {"": root}
    for nid in order:
        if nid not in owners:
            continue
        parts = names[nid].split(".")
        parent = root
        for i in range(1, len(parts)):
            prefix = ".".join(parts[:i])
            if prefix not in containers:
                containers[prefix] = Entry(prefix, at[nid])
                parent.children.append(containers[prefix])
            parent = containers[prefix]
        parent.children.append(Entry(names[nid], at[nid], node=nid))
    return root.children  # appended in running order, so already sorted


def construction_order(tree: list[Entry]) -> list[str]:
    """Nodes in the order their layers are built: depth first through the containers."""
    return [nid for entry in tree for nid in entry.leaves()]


def containers(tree: list[Entry]) -> dict[str, list[str]]:
    """Each container's path -> its members' last name segments, in order."""
    out: dict[str, list[str]] = {}

    def walk(entries: list[Entry]) -> None:
        for e in entries:
            if e.node is None:
                out[e.path] = [c.path.rsplit(".", 1)[-1] for c in e.children]
                walk(e.children)

    walk(tree)
    return out


def path_expression(path: str, members: dict[str, list[str]]) -> str:
    """`self.layer1[0].conv1` for `layer1.0.conv1`: numbers index the nn.Sequential by
    position, other segments are attributes."""
    parts = path.split(".")
    text = f"self.{parts[0]}"
    for i in range(1, len(parts)):
        seg = parts[i]
        if seg.isdigit():
            text += f"[{members['.'.join(parts[:i])].index(seg)}]"
        else:
            text += f".{seg}"
    return text


def layer_at(model: nn.Module, path: str) -> Any:
    """The submodule or parameter at a (possibly dotted) attribute path."""
    if "." not in path:
        return getattr(model, path)
    parent, _, last = path.rpartition(".")
    return getattr(model.get_submodule(parent), last)


def layer_parameters(model: nn.Module, path: str) -> list[nn.Parameter]:
    """The weights of the layer at `path` (one tensor for a Parameter node)."""
    layer = layer_at(model, path)
    return [layer] if isinstance(layer, nn.Parameter) else list(layer.parameters())
