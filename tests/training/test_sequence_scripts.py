"""The exported training script on sequence data and on graphs with several outputs:
it runs as a plain `python` process, trains, and reads the output the loss names."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from server.compiler import compile_graph
from server.datasets import describe_dataset
from server.export import export_code
from server.recipe import RecipeError

from .graphs import char_lm, lstm_classifier, mlp, siamese
from .test_sequences import two_heads

ZEN = describe_dataset("charlm").vocab_size


def run_script(source: str, folder, *args: str) -> str:
    (folder / "train_it.py").write_text(source, encoding="utf-8")
    done = subprocess.run([sys.executable, "train_it.py", "--device", "cpu", *args], cwd=folder,
                          capture_output=True, text=True, timeout=300,
                          env=os.environ | {"OMP_NUM_THREADS": "1"})  # shared cores: 1 thread
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_char_lm_script_reports_perplexity(tmp_path):
    source = export_code(char_lm(ZEN, params={"n_samples": 120, "length": 16}), "script")
    assert "def sine_windows" not in source and "def char_windows(" in source
    assert "output = output.transpose(1, 2)" in source
    out = run_script(source, tmp_path, "--epochs", "2", "--save-model", "lm.pt")
    lines = [line for line in out.splitlines() if line.startswith("Validation")]
    assert len(lines) == 2 and "token accuracy" in lines[-1] and "perplexity" in lines[-1]
    loss = float(lines[-1].split("loss ")[1].split(",")[0])
    ppl = float(lines[-1].rsplit("perplexity ", 1)[1])
    assert ppl == pytest.approx(2.718281828 ** loss, rel=1e-3)
    model = compile_graph(char_lm(ZEN))
    model.load_state_dict(torch.load(tmp_path / "lm.pt", weights_only=True))  # same keys


def test_parity_script_keeps_one_label_per_string():
    # Running it is the char-LM test's job (token ids in, the same loader); each
    # python start costs seconds on shared cores.
    source = export_code(lstm_classifier(params={"n_samples": 64}), "script")
    assert "def parity(" in source and "split_sequences(x, y, val_fraction, seed)" in source
    assert "transpose" not in source and "token accuracy" not in source
    compile(source, "parity.py", "exec")


def test_two_output_script_trains_the_output_the_loss_reads(tmp_path):
    g = two_heads(1)
    source = export_code(g, "script")
    assert "output = output[1]  # the model returns a tuple" in source
    run_script(source, tmp_path, "--epochs", "2", "--save-model", "net.pt")
    trained = torch.load(tmp_path / "net.pt", weights_only=True)
    start = compile_graph(g, seed=0).state_dict()  # the script seeds torch with 0 as well
    assert torch.equal(trained["aux.weight"], start["aux.weight"])  # no gradient reached it
    assert not torch.equal(trained["fc2.weight"], start["fc2.weight"])


def test_several_inputs_are_refused_with_the_reason():
    g = mlp("moons", 2, n_samples=40)
    g["nodes"] = [
        {"id": "x", "type": "Input"},
        {"id": "y", "type": "Input", "params": {"shape": [2]}},
        {"id": "sum", "type": "Add", "inputs": ["x", "y"]},
        {"id": "fc2", "type": "Linear", "params": {"out_features": 2}, "inputs": ["sum"]},
    ]
    g["output"] = "fc2"
    with pytest.raises(RecipeError, match="which gives 1 tensor per sample, but this graph has "
                                          "2 Inputs"):
        export_code(g, "script")


def test_two_input_script_feeds_the_stacked_pair(tmp_path):
    source = export_code(siamese(n_samples=100, epochs=1), "script")
    assert "output = model(*data.unbind(1))" in source
    out = run_script(source, tmp_path, "--save-model", "")
    assert "Validation: loss" in out
