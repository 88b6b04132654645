"""Value dtypes through the graph: float tensors, or long token ids.

An Input with `dtype: "long"` feeds integer ids. Layers that read ids (the
catalogue marks them `index_input`, e.g. Embedding) need them, and check the
Input's `vocab` bound against their table size; layers that only move values
around (Flatten, Reshape, Split, ...) keep ids ids; every other layer needs
floats and says so instead of failing at run time.
"""

from __future__ import annotations

from typing import Any

# Layers that pass values through without arithmetic: ids in, ids out.
KEEPS_DTYPE = {"Identity", "Flatten", "Unflatten", "Reshape", "Concat", "Split", "Chunk"}


def result_dtype(spec: Any, node_id: str, in_dtypes: list[str],
                 vocabs: list[int | None], params: dict[str, Any]) -> tuple[str, str | None]:
    """The dtype of the node's outputs, and an error message or None."""
    if getattr(spec, "index_input", False):
        if not in_dtypes or in_dtypes[0] != "long":
            return "float", (f"{spec.type} reads token ids: give it an Input with dtype "
                             f"\"long\" (it got float values)")
        size = params.get("num_embeddings")
        if vocabs and vocabs[0] is not None and size is not None and vocabs[0] > size:
            return "float", (f"the input's ids go up to {vocabs[0] - 1} (vocab {vocabs[0]}) but "
                             f"num_embeddings is {size}; set num_embeddings to at least "
                             f"{vocabs[0]}")
        return "float", None
    if "long" in in_dtypes:
        if spec.type in KEEPS_DTYPE or getattr(spec, "keeps_dtype", False):
            if len(set(in_dtypes)) > 1:
                return "float", f"{spec.type} cannot mix token ids with float values"
            return "long", None
        return "float", (f"{spec.type} needs float values but gets token ids (dtype long); "
                         f"put an Embedding first")
    return "float", None
