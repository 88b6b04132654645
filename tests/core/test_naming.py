"""Naming: node ids and graph names become unique, legal, readable, stable Python names.

Checks `identifier`, `class_name`, `Namespace` and `node_names` directly, and
that the compiler and exporter use the same names (so state_dict keys agree).
"""

from __future__ import annotations

import ast
import builtins
import keyword
import random
import re

import pytest
from torch import nn

from server.compiler import compile_graph
from server.datasets import DATASETS, script_source
from server.export import export_code
from server.naming import RESERVED, Namespace, class_name, identifier, node_names

from .support import chain, exported_class, graph, node

LEGAL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
NEVER = (set(keyword.kwlist) | set(keyword.softkwlist) | set(dir(builtins)) | set(dir(nn.Module))
         | set(vars(nn.Module())))
TRICKY = ["x", "x", "X", "x!", "x_1", "x 1", "class", "def", "None", "print", "len", "train",
          "forward", "training", "parameters", "self", "torch", "nn", "F", "1", "123abc", "",
          "___", "\u202e", "\U0001f525", "\u00e9", "a" * 64, "b" * 64, "b" * 63 + "c",
          "conv-1", "conv_1", "Conv 1", "CONV1", "conv1", "_private", "__dunder__", "a\nb",
          "a\"b", "a'b", "model", "main", "args", "Subset", "load_data"]


@pytest.mark.parametrize("text", TRICKY)
def test_identifier_is_legal_ascii(text):
    name = identifier(text)
    assert LEGAL.match(name), name
    assert name == name.lower()


def test_readable_when_possible():
    assert identifier("conv1") == "conv1"
    assert identifier("Conv 1") == "conv_1"
    assert identifier("fc-out") == "fc_out"
    assert identifier("123") == "layer_123"
    assert identifier("\u202e") == "layer"
    assert class_name("seed_cnn") == "SeedCnn"
    assert class_name("my net v2") == "MyNetV2"
    assert class_name(None) == class_name("") == "Net"
    assert class_name("3d model") == "Net3dModel"


def test_node_names_unique_legal_never_reserved():
    names = node_names(TRICKY_UNIQUE)
    assert list(names) == TRICKY_UNIQUE
    values = list(names.values())
    assert len(set(values)) == len(values)
    for v in values:
        assert LEGAL.match(v) and v not in NEVER and not keyword.iskeyword(v), v
        assert v not in RESERVED
        assert len(v) <= 64


TRICKY_UNIQUE = list(dict.fromkeys(t for t in TRICKY if t))


def test_node_names_deterministic_and_order_based():
    assert node_names(TRICKY_UNIQUE) == node_names(list(TRICKY_UNIQUE))
    # the first to claim a name keeps it, later ones get suffixes
    assert node_names(["conv1", "CONV1", "conv 1"]) == {
        "conv1": "conv1", "CONV1": "conv1_1", "conv 1": "conv_1"}
    assert node_names(["a", "a_1", "A"]) == {"a": "a", "a_1": "a_1", "A": "a_2"}
    shuffled = TRICKY_UNIQUE[:]
    random.Random(0).shuffle(shuffled)
    assert set(node_names(shuffled).values()) == set(node_names(TRICKY_UNIQUE).values())


def test_namespace_never_hands_out_a_name_twice():
    ns = Namespace()
    got = [ns.name("a" * 70) for _ in range(30)]
    assert len(set(got)) == 30
    assert all(len(g) <= 64 for g in got)


@pytest.mark.parametrize("text", [*TRICKY, "Net", "DataLoader", "TensorDataset", "Module",
                                  "None", "True", "subset", "tensor_dataset", "data loader"])
def test_class_name_legal_and_never_shadows(text):
    name = class_name(text)
    assert LEGAL.match(name), name
    assert name[0].isupper()
    assert name not in NEVER and name not in RESERVED
    assert len(name) <= 64


def test_class_name_never_shadows_a_dataset_loader_name():
    """Exported scripts paste dataset loaders in: the class must not shadow their names."""
    bound: set[str] = set()
    for dataset in DATASETS:
        params = {"path": "data.csv"} if dataset == "csv" else {"path": "images"} \
            if dataset == "imagefolder" else {}
        tree = ast.parse(script_source(dataset, params))
        for n in tree.body:
            if isinstance(n, ast.Import | ast.ImportFrom):
                bound |= {a.asname or a.name.split(".")[0] for a in n.names}
            elif isinstance(n, ast.FunctionDef | ast.ClassDef):
                bound.add(n.name)
    assert bound
    for name in bound:
        for text in (name, name.lower(), name.replace("_", " ")):
            assert class_name(text) not in bound, (text, class_name(text))


def test_compiler_and_exporter_use_the_same_names():
    ids = ["class", "Class", "print", "fc", "FC", "training", "x"]
    nodes = [node("input", "Input", shape=[3])]
    for nid in ids:
        nodes.append(node(nid, "Linear", [nodes[-1]["id"]], out_features=3))
    g = graph(nodes, name="class")
    compiled = compile_graph(g)
    assert compiled.node_attrs == {nid: node_names(["input", *ids])[nid] for nid in ids}
    exported = exported_class(export_code(g, "module"))()
    assert list(exported.state_dict()) == list(compiled.state_dict())
    assert type(exported).__name__ == class_name("class") == "Class"


def test_names_follow_topological_order_not_node_order():
    g = chain([4], ("Linear", {"out_features": 4}), ("Linear", {"out_features": 4}))
    g["nodes"][1]["id"], g["nodes"][2]["id"] = "dup", "Dup"
    g["nodes"][2]["inputs"] = ["dup"]
    g["nodes"] = [g["nodes"][2], g["nodes"][0], g["nodes"][1]]
    compiled = compile_graph(g)
    assert compiled.node_attrs == {"dup": "dup", "Dup": "dup_1"}
    assert list(compiled.state_dict()) == ["dup.weight", "dup.bias", "dup_1.weight",
                                           "dup_1.bias"]
