"""Ray is optional: with `import ray` blocked, the server, the trainer and the CLI still work.

One subprocess imports everything with Ray made unimportable (`sys.modules["ray"]
= None` makes every `import ray` raise ImportError), builds the app with the
default local executor, and checks that the Ray paths fail with a clear message.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHECK = r"""
import sys, tempfile
from pathlib import Path
sys.modules["ray"] = None  # `import ray` now raises ImportError

from server.app import Settings, create_app
from server.app.ray_executor import RayTrainingRun
from server.app.runs import default_factory, factory_for
from server.cli import main
import server.training.distributed  # noqa: F401 - DDP on torch.distributed alone

data = Path(tempfile.mkdtemp())
create_app(Settings(data_dir=data / "d"))
assert factory_for(Settings(data_dir=data)) is default_factory

run = RayTrainingRun({"version": 1, "nodes": []}, data / "run")
run.start()
events = run.poll(0)
assert [e["status"] for e in events] == ["queued", "failed"], events
assert "pip install 'torchcanvas[ray]'" in events[-1]["error"], events[-1]

code = main(["serve", "--executor", "ray", "--data-dir", str(data / "s")])
assert code == 1, code
assert "ray" not in sys.modules or sys.modules["ray"] is None
print("ok")
"""


def test_core_runs_without_ray():
    proc = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
    assert "--executor ray needs Ray: pip install 'torchcanvas[ray]'" in proc.stderr
