"""Benchmark: validation and export time of a 200-node graph (target: validate < 50 ms).

Run with `make bench` or `.venv/bin/python benchmarks/validate_speed.py`. Prints
the median and p95 of repeated runs; the graph is a deep CNN trunk with
residual Adds, so every shape rule and the parameter counting are exercised.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.export import export_code  # noqa: E402
from server.validation import count_parameters, validate_graph  # noqa: E402


def big_graph(n_nodes: int = 200) -> dict:
    """Conv -> BN -> ReLU blocks with a skip Add every block, then a classifier head."""
    nodes = [{"id": "x", "type": "Input", "params": {"shape": [3, 32, 32]}},
             {"id": "stem", "type": "Conv2d", "params": {"out_channels": 16, "padding": 1},
              "inputs": ["x"]}]
    prev, i = "stem", 0
    while len(nodes) < n_nodes - 4:
        conv, bn, act, add = (f"{k}{i}" for k in ("conv", "bn", "relu", "add"))
        nodes += [
            {"id": conv, "type": "Conv2d", "params": {"out_channels": 16, "padding": 1},
             "inputs": [prev]},
            {"id": bn, "type": "BatchNorm2d", "inputs": [conv]},
            {"id": act, "type": "ReLU", "inputs": [bn]},
            {"id": add, "type": "Add", "inputs": [act, prev]},
        ]
        prev, i = add, i + 1
    nodes += [{"id": "pool", "type": "AdaptiveAvgPool2d", "inputs": [prev]},
              {"id": "flat", "type": "Flatten", "inputs": ["pool"]},
              {"id": "fc", "type": "Linear", "params": {"out_features": 10}, "inputs": ["flat"]}]
    return {"version": 1, "name": "bench", "nodes": nodes[:n_nodes] if len(nodes) > n_nodes
            else nodes}


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def report(name: str, ms: list[float]) -> None:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    print(f"{name:<34} median {statistics.median(ms):7.2f} ms   p95 {p95:7.2f} ms   "
          f"(n={len(ms)})")


def main() -> None:
    graph = big_graph()
    assert validate_graph(graph).valid, validate_graph(graph).all_errors()[:3]
    print(f"graph: {len(graph['nodes'])} nodes")
    count_parameters.cache_clear()
    report("validate (cold parameter cache)", timed(lambda: (count_parameters.cache_clear(),
                                                             validate_graph(graph)), 20))
    report("validate (warm cache)", timed(lambda: validate_graph(graph), 50))
    report("export module", timed(lambda: export_code(graph, "module"), 20))
    big = {"version": 1, "nodes": [
        {"id": "x", "type": "Input", "params": {"shape": [1000000]}},
        {"id": "fc", "type": "Linear", "params": {"out_features": 1000000}, "inputs": ["x"]}]}
    report("refuse Linear(10**6, 10**6)", timed(lambda: validate_graph(big), 5))


if __name__ == "__main__":
    main()
