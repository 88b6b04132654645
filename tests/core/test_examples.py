"""Every graph in `examples/` validates, exports, and its training script runs with --dry-run.

The exported scripts run in one subprocess (one torch import for all of them,
each script in its own folder through `runpy`, as `__main__`); a session fixture
collects each script's outcome and the parametrized test reports it per example.
There is no network: MNIST-style examples read small fake files in torchvision's
raw idx format from `$TORCHCANVAS_DATA`, so the real loader code runs.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from server.compiler import compile_graph
from server.export import export_code
from server.export.deploy import example_input
from server.validation import analyze_graph, validate_graph

from .support import exported_class

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
IDS = [p.stem for p in EXAMPLES]

RUNNER = textwrap.dedent("""
    import json, os, runpy, sys, traceback
    results = {}
    for path in sys.argv[1:]:
        os.chdir(os.path.dirname(path))
        sys.argv = [path, "--dry-run", "--device", "cpu", "--save-model", "model.pt"]
        try:
            runpy.run_path(path, run_name="__main__")
            results[path] = "ok" if os.path.exists("model.pt") else "no model.pt saved"
        except BaseException:
            results[path] = traceback.format_exc()
    print("RESULTS" + json.dumps(results))
""")


def test_the_examples_are_there():
    assert {"seed_mlp", "seed_cnn"} <= set(IDS)


@pytest.mark.parametrize("path", EXAMPLES, ids=IDS)
def test_example_validates_and_exports(path: Path):
    g = json.loads(path.read_text(encoding="utf-8"))
    report = validate_graph(g)
    assert report.valid, report.all_errors()
    assert report.all_warnings() == [], report.all_warnings()
    compiled = compile_graph(g, seed=0).eval()
    model = exported_class(export_code(g, "module"))().eval()
    model.load_state_dict(compiled.state_dict(), strict=True)
    x = example_input(analyze_graph(g))[:2]  # token ids for a long Input
    with torch.no_grad():
        assert torch.allclose(model(x), compiled(x), atol=1e-6)
    assert list(compiled(x).shape[1:]) == report.nodes[report.output].output_shape
    # The script's copy of the class is the same model.
    script_model = exported_class(export_code(g, "script"))().eval()
    script_model.load_state_dict(compiled.state_dict(), strict=True)
    with torch.no_grad():
        assert torch.allclose(script_model(x), compiled(x), atol=1e-6)


def _write_idx(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def _fake_mnist(root: Path, n: int = 40) -> None:
    """MNIST and FashionMNIST training and test files in torchvision's raw format."""
    rng = np.random.default_rng(0)
    for name in ("MNIST", "FashionMNIST"):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = np.arange(n) % 10
        for prefix, count in (("train", n), ("t10k", 4)):
            _write_idx(root / name / "raw" / f"{prefix}-images-idx3-ubyte", images[:count])
            _write_idx(root / name / "raw" / f"{prefix}-labels-idx1-ubyte", labels[:count])


@pytest.mark.parametrize("path", EXAMPLES, ids=IDS)
def test_module_export_runs_as_a_program(path: Path, capsys):
    """`python model.py` prints the model and the output shape of a random batch."""
    g = json.loads(path.read_text(encoding="utf-8"))
    report = validate_graph(g)
    source = export_code(g, "module")
    exec(compile(source, str(path.with_suffix(".py")), "exec"), {"__name__": "__main__"})
    out = capsys.readouterr().out
    shape = ", ".join(map(str, [2, *report.nodes[report.output].output_shape]))
    assert out.rstrip().endswith(f"torch.Size([{shape}])")


@pytest.fixture(scope="session")
def dry_runs(tmp_path_factory) -> dict[str, str]:
    """Export every example's script and run them all with --dry-run in one subprocess."""
    base = tmp_path_factory.mktemp("scripts")
    _fake_mnist(base / "data")
    scripts = {}
    for path in EXAMPLES:
        folder = base / path.stem
        folder.mkdir()
        script = folder / f"{path.stem}.py"
        script.write_text(export_code(json.loads(path.read_text(encoding="utf-8")), "script"))
        scripts[path.stem] = str(script)
    env = {**os.environ, "TORCHCANVAS_DATA": str(base / "data")}
    proc = subprocess.run([sys.executable, "-c", RUNNER, *scripts.values()], cwd=base, env=env,
                          capture_output=True, text=True, timeout=280)
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULTS")]
    assert line, f"runner failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    results = json.loads(line[-1].removeprefix("RESULTS"))
    return {stem: results[path] for stem, path in scripts.items()}


@pytest.mark.parametrize("path", EXAMPLES, ids=IDS)
def test_example_script_runs_with_dry_run(path: Path, dry_runs: dict[str, str]):
    assert dry_runs[path.stem] == "ok", dry_runs[path.stem]
