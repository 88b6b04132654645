"""Hostile ids and names never reach generated code except as identifiers or string literals.

For every string in `EVIL` (quotes, triple quotes, newlines, `__import__`,
keywords, builtins, nn.Module attributes, digits first, U+202E, emoji, 64
characters...) a graph uses it as its name, as node ids and as the training
device. Both exports must parse; walking their AST, every identifier is plain
ASCII and binds no keyword, builtin or nn.Module attribute; no call reaches
`__import__`, `eval` or `exec`; the imports are those of a benign graph; the
user's text appears only inside string literals; and the module still runs.
"""

from __future__ import annotations

import ast
import builtins
import io
import keyword
import re
import tokenize
from typing import Any

import pytest
import torch
from torch import nn

from server.compiler import compile_graph
from server.export import export_code
from server.validation import validate_graph

from .support import exported_class, graph, node, randn

EVIL = [
    'a"); import os #', "a'); import os #", '"""', "'''", "a\nimport os", "\n", "\r\n",
    "__import__('os')", "os.system('echo pwned')", "eval", "exec", "class", "def", "None",
    "True", "lambda", "import", "match", "print", "len", "list", "train", "forward",
    "parameters", "training", "state_dict", "_modules", "x", "self", "torch", "nn", "F",
    "model", "main", "args", "Net", "1abc", "123", "_", "__init__", "\u202eevil\u202c",
    "\U0001f525", "\u00e9t\u00e9", "a" * 64, "#", "\\", "{x}", "{{}}", "%s", " ", "\t",
    "\x00", "Subset", "DataLoader", "load_data",
]

FORBIDDEN_CALLS = {"__import__", "eval", "exec", "compile", "breakpoint", "globals", "getattr",
                   "setattr", "open"}
FORBIDDEN_ATTRS = {"system", "popen", "__import__", "import_module", "run", "Popen"}
SHADOWABLE = (set(keyword.kwlist) | set(keyword.softkwlist) | set(dir(builtins))
              | set(dir(nn.Module)) | set(vars(nn.Module())))
ASCII_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _ids(s: str) -> list[str]:
    """Five distinct ids of at most 64 characters, all carrying the hostile text."""
    return [s] + [s[:60] + suffix for suffix in ("'1", '"2', "\n3", "#4")]


def evil_graph(s: str, shape: int = 2) -> dict[str, Any]:
    x, fc, act, skip, cat = _ids(s)
    return graph([
        node(x, "Input", shape=[shape]),
        node(fc, "Linear", [x], out_features=shape),
        node(act, "ReLU", [fc]),
        node(skip, "Linear", [x], out_features=shape),
        node(cat, "Concat", [act, skip, fc]),
    ], name=s, output=cat, data={"dataset": "circles"},
        # The device is no free text any more: a name that is not a device is refused by
        # validation (tests/app/test_hostile_input.py), so it never reaches code.
        training={"epochs": 1, "device": "cpu"}, loss={"type": "CrossEntropyLoss"})


def _bound_names(tree: ast.AST) -> set[str]:
    """Names the generated code defines: classes, functions, args, variables, self.attrs."""
    out: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.ClassDef | ast.FunctionDef):
            out.add(n.name)
        elif isinstance(n, ast.arg):
            out.add(n.arg)
        elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            out.add(n.id)
        elif (isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store)
              and isinstance(n.value, ast.Name) and n.value.id == "self"):
            out.add(n.attr)
    return out


def _identifiers(tree: ast.AST) -> list[str]:
    out = []
    for n in ast.walk(tree):
        for attr in ("id", "attr", "name", "arg", "asname"):
            value = getattr(n, attr, None)
            if isinstance(value, str) and not isinstance(n, ast.alias | ast.ImportFrom):
                out.append(value)
        if isinstance(n, ast.keyword) and n.arg is not None:
            out.append(n.arg)
    return out


def _imports(tree: ast.AST) -> set[str]:
    out = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            out |= {f"{a.name} as {a.asname}" for a in n.names}
        elif isinstance(n, ast.ImportFrom):
            out |= {f"{n.module}.{a.name} as {a.asname}" for a in n.names}
    return out


def _outside_strings(source: str) -> str:
    """The source with every string literal (and f-string text) removed."""
    skip = {tokenize.STRING}
    skip |= {getattr(tokenize, t) for t in ("FSTRING_MIDDLE", "TSTRING_MIDDLE")
             if hasattr(tokenize, t)}
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return "\n".join(t.string for t in tokens if t.type not in skip)


def check_source(source: str, s: str, benign: dict[str, set[str]]) -> None:
    tree = ast.parse(source)
    for name in _identifiers(tree):
        assert ASCII_NAME.match(name), name
    # Names a benign graph's export binds too are ours (`forward`, `main`, `_`...);
    # the rest came from user text and must shadow no keyword, builtin or Module attribute.
    from_user = _bound_names(tree) - benign["bound"]
    assert from_user, "the hostile graph's names should differ from the benign one's"
    assert not from_user & SHADOWABLE, from_user & SHADOWABLE
    imported = {a.asname or a.name.split(".")[0] for a in ast.walk(tree)
                if isinstance(a, ast.alias)}
    assert not from_user & imported, from_user & imported
    for n in ast.walk(tree):
        if isinstance(n, ast.Call):
            func = n.func
            if isinstance(func, ast.Name):
                assert func.id not in FORBIDDEN_CALLS, ast.unparse(n)
            elif isinstance(func, ast.Attribute):
                assert func.attr not in FORBIDDEN_ATTRS, ast.unparse(n)
    assert _imports(tree) == benign["imports"]
    code = _outside_strings(source)
    stripped = s.strip()
    if len(stripped) >= 2 and not re.fullmatch(r"[A-Za-z0-9_]+", stripped):
        assert stripped not in code, f"{s!r} appears outside a string literal"
    for bad in ("import os", "__import__", "\u202e", "\U0001f525", "\x00"):
        assert bad not in code


BENIGN = evil_graph("benign")


@pytest.fixture(scope="module")
def benign() -> dict[str, dict[str, set[str]]]:
    trees = {fmt: ast.parse(export_code(BENIGN, fmt)) for fmt in ("module", "script")}
    return {fmt: {"imports": _imports(t), "bound": _bound_names(t)} for fmt, t in trees.items()}


@pytest.mark.parametrize("s", EVIL, ids=[ascii(s)[1:-1][:24] for s in EVIL])
def test_hostile_text_stays_out_of_code(s: str, benign):
    g = evil_graph(s)
    report = validate_graph(g)
    assert report.valid, report.all_errors()
    for fmt in ("module", "script"):
        check_source(export_code(g, fmt), s, benign[fmt])

    # The module still instantiates, runs, and matches the compiled model.
    cls = exported_class(export_code(g, "module"))
    model = cls()
    compiled = compile_graph(g, seed=0)
    assert list(model.state_dict()) == list(compiled.state_dict())
    model.load_state_dict(compiled.state_dict())
    model.eval()  # would fail if a layer shadowed `training`
    compiled.eval()
    x = randn(3, [2])
    with torch.no_grad():
        assert torch.allclose(model(x), compiled(x))
    assert len(list(model.parameters())) == 4 and callable(model.forward)
    assert model(x).shape == (3, 6)


def test_hostile_ids_in_every_position(benign):
    """All the hostile strings in one graph: each needs its own unique name."""
    ids = [s for s in EVIL if s.strip() and len(s) <= 64]
    nodes = [node(ids[0], "Input", shape=[3])]
    for nid in ids[1:]:
        nodes.append(node(nid, "Tanh", [nodes[-1]["id"]]))
    nodes.append(node("sum", "Add", [ids[0], ids[-1]]))
    g = graph(nodes, name=EVIL[0])
    source = export_code(g, "module")
    check_source(source, EVIL[0], benign["module"])
    model = exported_class(source)()
    compiled = compile_graph(g)
    assert len(set(compiled.node_attrs.values())) == len(ids) - 1
    x = randn(2, [3])
    assert torch.allclose(model(x), compiled(x))
