"""Benchmark: importing densenet121 (torch.fx trace + catalogue mapping + validation), and
the page laying it out and rendering it (targets: import < 2 s, page usable < 1 s after).

Part 1 times `import_source("torchvision:NAME")` in this process (median of 3,
after one warm-up that pays for importing torchvision's builders). Part 2 starts
the real app, opens the page in Debian's Chromium and imports the same model
through the Templates dialog's zoo: the time from the click until the page has
validated the graph (every edge labelled), minus the server's answer time taken
from the browser's own resource timing, is the page's share.

    .venv/bin/python benchmarks/import_speed.py [--model densenet121]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def time_import(name: str) -> tuple[float, float, int]:
    from server.importers import import_source

    t = time.perf_counter()
    result = import_source(f"torchvision:{name}")
    first = time.perf_counter() - t
    times = []
    for _ in range(3):
        t = time.perf_counter()
        import_source(f"torchvision:{name}")
        times.append(time.perf_counter() - t)
    return first, statistics.median(times), len(result.graph["nodes"])


def time_page(name: str) -> tuple[float, float]:
    from live_page import live_page

    with live_page() as (page, _):
        page.wait_for_selector("[data-testid=validation][data-state=valid]", timeout=60_000)
        page.get_by_test_id("templates-button").click()
        page.wait_for_selector(f"[data-testid=zoo-model] option[value={name}]",
                               state="attached", timeout=60_000)
        page.get_by_test_id("zoo-model").select_option(name)
        t = time.perf_counter()
        page.get_by_test_id("zoo-import").click()
        page.wait_for_function(
            "() => document.querySelector('[data-testid=validation]').dataset.state"
            " === 'valid' && document.querySelectorAll('.x6-edge-label').length > 100",
            timeout=120_000)
        total = time.perf_counter() - t
        server_s = page.evaluate(
            "name => performance.getEntriesByType('resource')"
            ".filter(e => e.name.endsWith('/api/import/zoo/' + name))"
            ".map(e => e.duration).pop() / 1000", name)
    return total, server_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="densenet121")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    first, median, nodes = time_import(args.model)
    print(f"import torchvision:{args.model} ({nodes} nodes): median {median:.2f} s "
          f"(first, with torchvision's imports: {first:.2f} s)")
    total, server_s = time_page(args.model)
    print(f"page: click to validated canvas {total:.2f} s, of which the server's answer "
          f"{server_s:.2f} s; the page's share {total - server_s:.2f} s")


if __name__ == "__main__":
    main()
