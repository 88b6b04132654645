"""The exported script runs unchanged under `torchrun --nproc_per_node 2` (gloo, CPU).

Two processes with a DistributedSampler and a per-process batch of half the
global batch take exactly the steps one process takes with the global batch in
the same order: rank r's k-th batch holds positions r, r+2, ... of the k-th
global slice of the shuffled order, DDP averages the two mean-loss gradients,
and 1438 digits split evenly, so every pair of per-rank batches has equal sizes.
The reference is a hand-written single-process loop over that order (the
DistributedSampler with one replica), using the script's own model and data.
"""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import torch
from torch.utils.data import DataLoader, DistributedSampler

from server.export import export_code

ROOT = Path(__file__).resolve().parents[2]
EPOCHS, BATCH, LR, SEED = 2, 64, 0.003, 0


def _reference(script: Path) -> dict[str, torch.Tensor]:
    """One process, the global batch, the DistributedSampler's order for one replica."""
    ns = runpy.run_path(str(script), run_name="reference")  # defines, does not run main()
    torch.manual_seed(SEED)
    train_set, _ = ns["load_data"](val_fraction=0.2, seed=SEED)
    assert len(train_set) % 2 == 0  # equal per-rank batches: the test's premise
    model = ns["SeedCnn"]()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    criterion = torch.nn.CrossEntropyLoss()
    sampler = DistributedSampler(train_set, num_replicas=1, rank=0, shuffle=True, seed=SEED)
    loader = DataLoader(train_set, batch_size=BATCH, sampler=sampler)
    for epoch in range(1, EPOCHS + 1):
        sampler.set_epoch(epoch)
        for data, target in loader:
            optimizer.zero_grad()
            criterion(model(data), target).backward()
            optimizer.step()
    return model.state_dict()


def test_torchrun_two_processes_match_one(tmp_path):
    graph = json.loads((ROOT / "examples" / "seed_cnn.json").read_text(encoding="utf-8"))
    script = tmp_path / "seed_cnn.py"
    script.write_text(export_code(graph, "script"), encoding="utf-8")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("PYTHONPATH", None)  # the script stands alone
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node", "2", str(script), "--epochs", str(EPOCHS),
               "--batch-size", str(BATCH), "--lr", str(LR), "--seed", str(SEED),
               "--device", "cpu", "--save-model", "ddp.pt"]
    proc = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=240)
    if proc.returncode and _aborted_in_native_code(proc.stderr):
        # Seen once, in a CI run on a loaded machine: a rank died in native code
        # ("terminate called without an active exception", SIGABRT) with nothing from
        # Python, and 26 tries here under load did not repeat it. Twice is a real failure.
        proc = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=240)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-1500:]}\nstderr:\n{proc.stderr[-3000:]}"
    # rank 0 alone logs: one validation line per epoch, over the whole validation set
    validations = [line for line in proc.stdout.splitlines() if line.startswith("Validation")]
    assert len(validations) == EPOCHS and all("/359 " in line for line in validations)

    ours = torch.load(tmp_path / "ddp.pt", weights_only=True)
    theirs = _reference(script)
    assert ours.keys() == theirs.keys()
    for name in ours:
        assert torch.allclose(ours[name], theirs[name], rtol=1e-4, atol=1e-5), name


def _aborted_in_native_code(stderr: str) -> bool:
    """A rank stopped by std::terminate in native code, not by an error of the script's."""
    before = stderr.split("terminate called without an active exception", 1)
    return len(before) == 2 and "Traceback" not in before[0]
