"""Benchmark: importing densenet121 (torch.fx trace + catalogue mapping + validation), and
the page laying it out and rendering it (targets: import < 2 s, page usable < 1 s after).

Part 1 times `import_source("torchvision:NAME")` in this process (median of 3,
after one warm-up that pays for importing torchvision's builders). Part 2 starts
the real app, opens the page in Debian's Chromium and imports the same model
through the Templates dialog's zoo: the time from the click until the page is
usable (the graph validated, the visible edges labelled with their shapes, and
the main thread free again: two animation frames answer), minus the server's
answer time taken from the browser's own resource timing, is the page's share;
beside it, the main thread's busy time over the same span (Chromium's
`TaskDuration` metric), which a loaded machine inflates far less than wall time.
Part 3 (`--zoo`) imports every torchvision classification architecture and
prints the tally: imported, or refused and why.

    .venv/bin/python benchmarks/import_speed.py [--model densenet121] [--zoo]
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


def time_page(name: str, reps: int = 3) -> list[tuple[float, float]]:
    """(click to usable, server answer) per import of `name`; a small model (resnet18) is
    imported before each, so every measured import replaces a whole different network."""
    from live_page import live_page

    runs = []
    with live_page() as (page, _):
        page.wait_for_selector("[data-testid=validation][data-state=valid]", timeout=60_000)
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        for _ in range(reps):
            _import(page, "resnet18", cdp)
            runs.append(_import(page, name, cdp))
    return runs


def _busy(cdp) -> float:
    metrics = cdp.send("Performance.getMetrics")["metrics"]
    return next(m["value"] for m in metrics if m["name"] == "TaskDuration")


def _import(page, name: str, cdp) -> tuple[float, float, float]:
    page.get_by_test_id("templates-button").click()
    page.wait_for_selector(f"[data-testid=zoo-model] option[value={name}]",
                           state="attached", timeout=60_000)
    page.get_by_test_id("zoo-model").select_option(name)
    page.evaluate("() => performance.clearResourceTimings()")
    busy = _busy(cdp)
    t = time.perf_counter()
    page.get_by_test_id("zoo-import").click()
    # Every edge drawn carries its shape label (the canvas draws the cells in view).
    ready = ("() => document.querySelector('[data-testid=validation]').dataset.state"
             " === 'valid' && document.querySelectorAll('.x6-edge').length > 5"
             " && document.querySelectorAll('.x6-edge-label').length >="
             " document.querySelectorAll('.x6-edge').length"
             f" && document.querySelector('[data-testid=graph-name]')?.value === {name!r}")
    while not page.evaluate(ready):
        if time.perf_counter() - t > 180:
            raise TimeoutError(f"the imported {name} never showed")
        time.sleep(0.02)
    # Usable: the browser answers two animation frames (no long task still running).
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => "
                  "requestAnimationFrame(() => r())))")
    total = time.perf_counter() - t
    busy = _busy(cdp) - busy
    server_s = page.evaluate(
        "name => performance.getEntriesByType('resource')"
        ".filter(e => e.name.endsWith('/api/import/zoo/' + name))"
        ".map(e => e.duration).pop() / 1000", name)
    return total, server_s, busy


def zoo_tally() -> None:
    """Every torchvision classification architecture: imported (nodes, seconds) or why not."""
    from server.importers import ImportFailed, import_source, torchvision_models

    ok, refused = [], []
    for name in torchvision_models():
        t = time.perf_counter()
        try:
            result = import_source(f"torchvision:{name}")
            ok.append(name)
            blocks = sorted(result.graph.get("blocks") or {})
            print(f"  imported {name}: {len(result.graph['nodes'])} nodes, "
                  f"{len(blocks)} blocks ({', '.join(blocks[:4]) or 'flat'}), "
                  f"{time.perf_counter() - t:.1f} s", flush=True)
        except ImportFailed as exc:
            refused.append(name)
            lines = str(exc).splitlines()
            first = lines[1].strip() if len(lines) > 1 else lines[0]
            print(f"  refused  {name}: {lines[0][:90]}; first: {first[:140]}", flush=True)
    print(f"torchvision zoo: {len(ok)} of {len(ok) + len(refused)} architectures import; "
          f"refused: {', '.join(refused)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="densenet121")
    parser.add_argument("--zoo", action="store_true", help="also import every architecture")
    parser.add_argument("--page-only", action="store_true", help="skip the in-process import")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if not args.page_only:
        first, median, nodes = time_import(args.model)
        print(f"import torchvision:{args.model} ({nodes} nodes): median {median:.2f} s "
              f"(first, with torchvision's imports: {first:.2f} s)")
    runs = time_page(args.model)
    shares = [total - server for total, server, _ in runs]
    busy = [b for _, _, b in runs]
    print(f"page: click to usable canvas {', '.join(f'{t:.2f}' for t, _, _ in runs)} s, of "
          f"which the server's answer {', '.join(f'{s:.2f}' for _, s, _ in runs)} s; the "
          f"page's share {', '.join(f'{p:.2f}' for p in shares)} s (median "
          f"{statistics.median(shares):.2f} s); main thread busy "
          f"{', '.join(f'{b:.2f}' for b in busy)} s (median {statistics.median(busy):.2f} s)")
    if args.zoo:
        zoo_tally()


if __name__ == "__main__":
    main()
