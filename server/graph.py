"""Graph format v1: the public JSON contract between the canvas, files and tools.

These pydantic models are the format's definition; `docs/graph-format.md`
describes every field and `torchcanvas schema` prints the JSON Schema generated
from them. Change them only compatibly: new fields optional, old files valid.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

NodeId = str
ID_PATTERN_DOC = "1-64 characters, chosen by the user"
MAX_INPUTS = 64  # inputs of one node (Add, Concat); more is a mistake, not a network
# A node's attribute path: identifiers or numbers joined by dots (`layer1.0.conv1`).
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}(\.[A-Za-z0-9_]{1,64}){0,15}$"
BLOCK_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
BLOCK_PREFIX = "block:"  # a node of type `block:<name>` instantiates graph.blocks[name]


class _Model(BaseModel):
    # Unknown keys are refused so a typo ("paramz") is an error, not a silent no-op;
    # `ui` objects are the one place free-form data is kept.
    model_config = ConfigDict(extra="forbid")


class PortRef(_Model):
    """One output port of a node: `{"node": "split", "port": 1}`. A plain node id
    string means port 0, so old files keep their meaning."""

    node: NodeId = Field(min_length=1, max_length=64, description="The node's id")
    port: int = Field(default=0, ge=0, le=255, description="Output port number, from 0")


Ref = NodeId | PortRef


class Node(_Model):
    """One layer (or Input, Add, Concat) on the canvas."""

    id: NodeId = Field(min_length=1, max_length=64, description="Unique id, " + ID_PATTERN_DOC)
    type: str = Field(min_length=1, max_length=64, description="PyTorch class name, e.g. Conv2d")
    params: dict[str, Any] = Field(default_factory=dict, description="Constructor arguments")
    inputs: list[Ref] = Field(default_factory=list, max_length=MAX_INPUTS,
                              description="Inputs in order: node ids, or {node, port} objects "
                              f"(at most {MAX_INPUTS})")
    shares: NodeId | None = Field(
        default=None, description="Apply this other node's layer, with the same weights "
        "(weight sharing); same type, params may be omitted")
    frozen: bool = Field(default=False, description="Keep this layer's weights as they start "
                         "(requires_grad off): transfer learning")
    name: str | None = Field(
        default=None, max_length=256, pattern=NAME_PATTERN,
        description="The layer's attribute path in the module, e.g. `fc` or, dotted, "
        "`layer1.0.conv1` (nested in nn.Sequential containers) so state_dict keys can equal "
        "another model's; default: derived from the id")
    ui: dict[str, Any] | None = Field(default=None, description="Editor data, kept unchanged")


class Component(_Model):
    """A loss, optimizer or scheduler: a catalogue type and its arguments."""

    type: str = Field(min_length=1, max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)
    ui: dict[str, Any] | None = None


class LossComponent(Component):
    """The loss; `output` picks which of several graph outputs it reads."""

    output: int | None = Field(default=None, ge=0, description="Index into the graph's "
                               "output list (default 0, the first)")


class DataConfig(_Model):
    """Which dataset to train on and how to batch and split it."""

    dataset: str = Field(min_length=1, max_length=64, description="Dataset name from the catalogue")
    params: dict[str, Any] = Field(default_factory=dict, description="Dataset parameters")
    batch_size: int = Field(default=64, ge=1, le=65536)
    val_fraction: float = Field(default=0.2, ge=0.0, lt=1.0)
    shuffle: bool = True


class TrainingConfig(_Model):
    """How long and where to train."""

    epochs: int = Field(default=10, ge=1, le=10000)
    seed: int | None = Field(default=0, description="Seed for weights, split and shuffling")
    device: str = Field(default="auto", description="auto, cpu, cuda, cuda:N or mps")
    early_stopping_patience: int | None = Field(default=None, ge=1)
    amp: bool = Field(default=False, description="Mixed precision on CUDA")


class InitConfig(_Model):
    """Where the weights start from, before any data is seen."""

    weights: str = Field(min_length=1, max_length=1024,
                         description="A .pt file: a state_dict or a torchcanvas checkpoint, "
                         "read with weights_only=True. Relative to the graph file; on the "
                         "server, an uploaded weights file. Tensors are matched by name and "
                         "shape; the rest keep fresh weights")


class BlockParam(_Model):
    """A param a block exposes: its inner nodes read it as the string `"$name"`."""

    default: Any = Field(default=None, description="Value when an instance does not set it "
                         "(null: the instance must set it)")
    description: str | None = Field(default=None, max_length=500)


class Block(_Model):
    """A named sub-graph used as a layer: each `block:<name>` node is one instance with its
    own weights, exported as one nn.Module class used by the main class."""

    nodes: list[Node] = Field(default_factory=list, description="The block's nodes, with one "
                              "Input node per block input (its shape comes from the instance)")
    inputs: list[NodeId] | None = Field(
        default=None, description="Input node ids in the order the instance's edges feed them "
        "(default: the order of the Input nodes in `nodes`)")
    output: NodeId | list[Ref] | None = Field(
        default=None, description="What the block returns, as the graph's `output`: a list "
        "gives the instance one output port per item")
    params: dict[str, BlockParam] = Field(
        default_factory=dict, description="Exposed params: inner node params written "
        "`\"$name\"` take the instance's value")
    description: str | None = Field(default=None, max_length=2000)
    ui: dict[str, Any] | None = None


class Graph(_Model):
    """A whole network with, optionally, what it takes to train it."""

    version: Literal[1] = 1
    name: str = Field(default="Net", max_length=128, description="Becomes the class name")
    nodes: list[Node] = Field(default_factory=list)
    inputs: list[NodeId] | None = Field(
        default=None, description="Input node ids in the order forward() takes them "
        "(default: the order of the Input nodes in `nodes`)")
    output: NodeId | list[Ref] | None = Field(
        default=None, description="The node the model returns, or a list of outputs "
        "(node ids or {node, port}) returned as a tuple")
    loss: LossComponent | None = None
    optimizer: Component | None = None
    scheduler: Component | None = None
    data: DataConfig | None = None
    training: TrainingConfig | None = None
    init: InitConfig | None = None
    blocks: dict[str, Block] | None = Field(
        default=None, description="Reusable sub-graphs by name (identifier-like); nodes of "
        "type `block:<name>` instantiate them")
    ui: dict[str, Any] | None = None


def graph_schema() -> dict[str, Any]:
    """The JSON Schema of graph format v1."""
    schema = Graph.model_json_schema()
    schema["$id"] = "https://torchcanvas.dev/schema/graph-v1.json"
    schema["title"] = "torchcanvas graph v1"
    return schema


class GraphFormatError(ValueError):
    """A document that is not a graph v1; `errors` are in the validator's shape."""

    def __init__(self, errors: list[dict[str, Any]]):
        self.errors = errors
        super().__init__("; ".join(e["message"] for e in errors))


def parse_graph(data: Any) -> Graph:
    """Parse a dict into a Graph, turning pydantic errors into node-named errors."""
    if isinstance(data, Graph):
        return data
    try:
        return Graph.model_validate(data)
    except ValidationError as exc:
        raise GraphFormatError(pydantic_errors(exc, data)) from None


def pydantic_errors(exc: ValidationError, data: Any) -> list[dict[str, Any]]:
    """Convert a pydantic ValidationError into `{node, param, message}` records."""
    out = []
    for err in exc.errors():
        loc = list(err["loc"])
        node = None
        if len(loc) >= 2 and loc[0] == "nodes" and isinstance(loc[1], int):
            try:
                node = str(data["nodes"][loc[1]].get("id")) or None
            except (KeyError, IndexError, TypeError, AttributeError):
                node = None
        where = ".".join(str(p) for p in loc)
        message = f"{where}: {err['msg']}" if where else err["msg"]
        out.append({"node": node, "param": None, "message": message})
    return out


def load_graph_file(path: str | Path) -> Graph:
    """Read and parse a graph file; raise `GraphFormatError` with a clear message."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GraphFormatError([_msg(f"no such file: {p}")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GraphFormatError([_msg(f"cannot read {p}: {exc}")]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GraphFormatError([_msg(f"{p} is not valid JSON: {exc}")]) from None
    return parse_graph(data)


def _msg(message: str) -> dict[str, Any]:
    return {"node": None, "param": None, "message": message}
