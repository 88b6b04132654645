"""Legal, readable Python names from user text.

Node ids and graph names are chosen by users and may hold anything: quotes,
newlines, `__import__('os')`, keywords, right-to-left marks. They reach generated
code only through this module, which keeps `[A-Za-z0-9_]`, never returns a
keyword, a builtin or a name that `nn.Module` already uses, and hands out each
name once. The compiler and exporter share `node_names` so the compiled module's
`state_dict` keys equal the exported class's.
"""

from __future__ import annotations

import builtins
import keyword
import re

from torch import nn

# Names the generated code itself uses, plus every attribute of nn.Module
# (a layer called "train" or "parameters" would shadow the method).
RESERVED = (
    set(keyword.kwlist) | set(keyword.softkwlist) | set(dir(builtins)) | set(dir(nn.Module))
    | set(vars(nn.Module()))  # instance attributes such as `training`
    | {"self", "torch", "nn", "F", "np", "model", "args", "main", "device", "optimizer",
       "criterion", "scheduler", "loader", "epoch", "output", "target", "loss", "data",
       "argparse", "math", "sys", "os", "DataLoader", "TensorDataset", "load_data",
       "prepare_target", "train_one_epoch", "evaluate", "random_split",
       # imported by the dataset loaders an exported script pastes in
       "Subset", "CsvError", "transforms", "csv", "sk_datasets", "tv_datasets", "pick_device",
       # temporaries of some layers' exported forward lines (h_n, causal_mask), and a class
       # the export imports by name (a graph called "stochastic depth" must not shadow it)
       "h_n", "causal_mask", "StochasticDepth"}
)


def identifier(text: str, fallback: str = "layer") -> str:
    """A snake_case identifier made only of ASCII letters, digits and underscores."""
    s = re.sub(r"[^0-9A-Za-z_]+", "_", text).strip("_").lower()
    s = re.sub(r"_+", "_", s)
    if not s:
        s = fallback
    if s[0].isdigit():
        s = f"{fallback}_{s}"
    return s


def class_name(text: str | None, fallback: str = "Net") -> str:
    """A CamelCase class name, e.g. "seed_cnn" -> "SeedCnn"."""
    words = re.findall(r"[A-Za-z0-9]+", text or "")
    s = "".join(w[:1].upper() + w[1:] for w in words)
    if not s or s[0].isdigit():
        s = fallback + s
    if s in RESERVED or keyword.iskeyword(s):
        s = s + "Net"
    return s[:64]


class Namespace:
    """Hands out unique identifiers, never a reserved one."""

    def __init__(self, reserved: set[str] | None = None):
        self.taken = set(RESERVED if reserved is None else reserved)

    def name(self, text: str, fallback: str = "layer") -> str:
        base = identifier(text, fallback)[:48]
        name, i = base, 1
        while name in self.taken:
            name = f"{base}_{i}"
            i += 1
        self.taken.add(name)
        return name


def node_names(order: list[str]) -> dict[str, str]:
    """An identifier for each node id, assigned in topological order."""
    ns = Namespace()
    return {nid: ns.name(nid) for nid in order}
