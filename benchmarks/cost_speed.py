"""Benchmark: the canvas's cost (POST /api/graphs/cost's work) for large graphs.

Run with `make bench` or `.venv/bin/python benchmarks/cost_speed.py`. Prints the
median and p95 of `graph_cost` with nothing cached, after an edit (a new graph whose
layer configurations were counted before), and of a cache hit (moving a node), for
the 200-node residual CNN of `validate_speed.py` and a 2000-node one (the node
limit), counted on the meta device (no weights, no arithmetic).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.validate_speed import big_graph, report, timed  # noqa: E402
from server.cost import _LAYER_FLOPS, _cached, graph_cost  # noqa: E402


def main() -> None:
    graph_cost(big_graph(20))  # imports and flop-counter set-up, once
    for n, repeat in ((200, 15), (2000, 3)):
        graph = big_graph(n)
        cost = graph_cost(graph)
        print(f"{n} nodes: {cost['total_flops']:,} FLOPs per sample, "
              f"{cost['memory']['total_human']} to train")

        def edited(graph=graph):  # a new graph, its layer configurations already counted
            _cached.cache_clear()
            graph_cost(graph)

        def cold(graph=graph):  # nothing remembered: every layer configuration counted
            _cached.cache_clear()
            _LAYER_FLOPS.clear()
            graph_cost(graph)

        report(f"cost, {n} nodes, nothing cached", timed(cold, repeat))
        report(f"cost, {n} nodes, after an edit", timed(edited, repeat))
        report(f"cost, {n} nodes, cached", timed(lambda graph=graph: graph_cost(graph), repeat))


if __name__ == "__main__":
    main()
