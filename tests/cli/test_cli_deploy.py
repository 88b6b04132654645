"""`torchcanvas export --format onnx|torchscript|exported-program`, with and without weights."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np
import torch

from server.cli import main
from server.compiler import compile_graph
from server.graph import load_graph_file

ROOT = Path(__file__).resolve().parents[2]
GRAPH = str(ROOT / "examples/seed_cnn.json")


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def test_onnx_with_a_checkpoints_weights(capsys, tmp_path):
    import onnxruntime as ort

    model = compile_graph(load_graph_file(GRAPH), seed=123).eval()
    ckpt = tmp_path / "best.pt"
    torch.save({"state_dict": model.state_dict(), "epoch": 3}, ckpt)
    target = tmp_path / "model.onnx"
    code, err = run(capsys, "export", GRAPH, "--format", "onnx", "--weights", str(ckpt),
                    "-o", str(target))
    assert code == 0, err
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    x = torch.randn(4, 1, 8, 8)
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    with torch.no_grad():
        assert np.abs(got - model(x).numpy()).max() < 1e-4


def test_torchscript_with_a_plain_state_dict(capsys, tmp_path):
    model = compile_graph(load_graph_file(GRAPH), seed=7).eval()
    weights = tmp_path / "weights.pt"
    torch.save(model.state_dict(), weights)
    target = tmp_path / "model.pt"
    code, err = run(capsys, "export", GRAPH, "--format", "torchscript", "--weights",
                    str(weights), "-o", str(target))
    assert code == 0, err
    loaded = torch.jit.load(io.BytesIO(target.read_bytes()))
    x = torch.randn(2, 1, 8, 8)
    assert torch.allclose(loaded(x), model(x), atol=1e-6)


def test_binary_formats_need_a_file_name(capsys):
    code, err = run(capsys, "export", GRAPH, "--format", "exported-program")
    assert code == 1
    assert "writes a binary file: give it a name with -o" in err


def test_weights_do_not_go_with_code(capsys, tmp_path):
    code, err = run(capsys, "export", GRAPH, "--weights", str(tmp_path / "x.pt"))
    assert code == 1 and "--weights goes with onnx" in err


class _RunsCode:
    def __reduce__(self):
        return (exec, ("open('PWNED', 'w').write('x')",))


def test_a_pickle_that_runs_code_is_refused_and_nothing_runs(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps({"state_dict": _RunsCode()}))
    code, err = run(capsys, "export", GRAPH, "--format", "onnx", "--weights", str(evil),
                    "-o", str(tmp_path / "m.onnx"))
    assert code == 1
    assert "cannot be read as weights" in err
    assert not (tmp_path / "PWNED").exists()
    assert not (tmp_path / "m.onnx").exists()


def test_weights_of_another_network_are_refused(capsys, tmp_path):
    other = compile_graph(load_graph_file(ROOT / "examples/seed_mlp.json"), seed=0)
    weights = tmp_path / "other.pt"
    torch.save(other.state_dict(), weights)
    code, err = run(capsys, "export", GRAPH, "--format", "onnx", "--weights", str(weights),
                    "-o", str(tmp_path / "m.onnx"))
    assert code == 1 and "state_dict" in err
    assert not (tmp_path / "m.onnx").exists()
