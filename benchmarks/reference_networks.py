"""Benchmark: torchvision's architectures as graphs, validated and exported (issue 9's
target: validation < 100 ms each, on the meta device, allocating nothing).

Each network comes two ways: imported flat by `torchcanvas import torchvision:NAME`
(one node per layer) and built from blocks as in `tests/core/block_graphs.py` (one
definition per block, torchvision's own state_dict keys). For each: validation with
the parameter-count cache cleared (cold) and warm (median of 5), the `module` export,
and the process's peak resident memory before and after, which shows the parameters
are counted on the meta device, not allocated (VGG-11's 133M would be 507 MB).

    .venv/bin/python benchmarks/reference_networks.py
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.export import export_code  # noqa: E402
from server.importers import import_source  # noqa: E402
from server.validation import count_parameters, validate_graph  # noqa: E402
from tests.core import block_graphs  # noqa: E402

BUILT = {
    "densenet169": lambda: block_graphs.densenet_graph((6, 12, 32, 32), size=224),
    "vgg11": lambda: block_graphs.vgg11_graph(size=224),
    "resnet18": lambda: block_graphs.resnet_graph(size=224),
    "mobilenet_v2": lambda: block_graphs.mobilenet_v2_graph(size=224),
}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(g: dict[str, Any]) -> dict[str, Any]:
    count_parameters.cache_clear()
    t = time.perf_counter()
    report = validate_graph(g)
    cold = time.perf_counter() - t
    assert report.valid, report.all_errors()[:3]
    warm = []
    for _ in range(5):
        t = time.perf_counter()
        validate_graph(g)
        warm.append(time.perf_counter() - t)
    t = time.perf_counter()
    export_code(g, "module")
    export = time.perf_counter() - t
    nodes = len(g["nodes"]) + sum(len(b["nodes"]) for b in (g.get("blocks") or {}).values())
    return {"nodes": nodes, "params": report.total_params, "cold": cold,
            "warm": statistics.median(warm), "export": export}


def main() -> None:
    print("| network | graph | nodes | parameters | validate cold | validate warm | export "
          "| peak memory grown |")
    print("|---|---|---|---|---|---|---|---|")
    for name, build in BUILT.items():
        for kind in ("imported, flat", "imported, blocks", "built from blocks"):
            g = (import_source(f"torchvision:{name}", blocks=kind.endswith("blocks")).graph
                 if kind.startswith("imported") else build())
            before = peak_mb()
            m = measure(g)
            grown = peak_mb() - before
            print(f"| {name} | {kind} | {m['nodes']} | {m['params']:,} | "
                  f"{m['cold'] * 1000:.1f} ms | {m['warm'] * 1000:.1f} ms | "
                  f"{m['export'] * 1000:.1f} ms | {grown:.0f} MB |", flush=True)


if __name__ == "__main__":
    main()
