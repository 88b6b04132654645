"""The exported script's `--channels-last` and `--compile`: present only when the graph's
`training` turns them on (otherwise the script is the one of old, byte for byte), and
the script runs with them."""

from __future__ import annotations

import copy
import shutil
import sys

import pytest

from server.export import export_code
from tests.training.graphs import mlp, seed_cnn


def _with(graph: dict, **training) -> dict:
    g = copy.deepcopy(graph)
    g["training"] = {**g.get("training", {}), **training}
    return g


def _run(source: str, argv: list[str], monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["train.py", *argv])
    exec(compile(source, "train.py", "exec"), {"__name__": "__main__"})


def test_switches_off_leave_the_script_unchanged():
    for graph in (seed_cnn(epochs=1), mlp()):
        plain = export_code(graph, "script")
        assert export_code(_with(graph, channels_last=False, compile=False), "script") == plain
        assert "--compile" not in plain and "channels_last" not in plain


def test_switches_on_become_flags_that_default_on():
    source = export_code(_with(seed_cnn(epochs=1), channels_last=True, compile=True), "script")
    assert 'parser.add_argument("--channels-last", action=argparse.BooleanOptionalAction, ' \
        'default=True' in source
    assert 'parser.add_argument("--compile", action=argparse.BooleanOptionalAction, ' \
        'default=True' in source
    assert "net = net.to(memory_format=args.memory_format)" in source
    assert "data = data.to(device, memory_format=args.memory_format)" in source
    assert "model = torch.compile(model)" in source


def test_channels_last_on_tabular_data_is_left_out_with_a_comment():
    source = export_code(_with(mlp(), channels_last=True), "script")
    assert "--channels-last" not in source and "memory_format" not in source
    assert "# channels_last is off: the samples are not images (C, H, W)" in source


def test_script_with_channels_last_trains_a_batch(monkeypatch, tmp_path, capsys):
    source = export_code(_with(seed_cnn(epochs=1), channels_last=True, compile=True), "script")
    _run(source, ["--dry-run", "--no-compile", "--save-model", ""], monkeypatch, tmp_path)
    out = capsys.readouterr().out
    assert "Train epoch 1" in out and "Validation:" in out


@pytest.mark.compile
@pytest.mark.timeout(1200)
@pytest.mark.skipif(not any(shutil.which(c) for c in ("g++", "c++", "clang++")),
                    reason="inductor's CPU backend needs a C++ compiler")
def test_script_with_compile_trains_a_batch(monkeypatch, tmp_path, capsys):
    source = export_code(_with(mlp(), compile=True), "script")
    _run(source, ["--dry-run", "--save-model", ""], monkeypatch, tmp_path)
    assert "Validation:" in capsys.readouterr().out
