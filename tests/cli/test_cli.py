"""The `torchcanvas` command line on every example and on a user's usual mistakes.

Commands run in-process through `server.cli.main` (fast); one test runs the
installed console script to prove the entry point works.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from server.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_validates_summarizes_and_exports(path, capsys, tmp_path):
    code, out, _ = run(capsys, "validate", str(path))
    assert code == 0 and "valid" in out
    code, out, _ = run(capsys, "summary", str(path))
    assert code == 0 and "total parameters" in out
    graph = json.loads(path.read_text())
    for node in graph["nodes"]:
        assert node["id"] in out
    for fmt in ("module", "script"):
        target = tmp_path / f"{fmt}.py"
        code, _, _ = run(capsys, "export", str(path), "--format", fmt, "-o", str(target))
        assert code == 0
        ast.parse(target.read_text())


def test_export_to_stdout(capsys):
    code, out, _ = run(capsys, "export", str(ROOT / "examples/seed_cnn.json"))
    assert code == 0
    assert "class SeedCnn(nn.Module):" in out
    assert "nn.Linear(256, 10)" in out


def test_schema_is_json_schema(capsys):
    code, out, _ = run(capsys, "schema")
    schema = json.loads(out)
    assert code == 0 and schema["title"] == "torchcanvas graph v1"
    assert {"nodes", "loss", "data", "training"} <= set(schema["properties"])


def test_missing_file_is_a_clear_error(capsys, tmp_path):
    code, out, err = run(capsys, "validate", str(tmp_path / "nope.json"))
    assert code == 1 and "no such file" in err and "Traceback" not in err


def test_bad_json_is_a_clear_error(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, _, err = run(capsys, "summary", str(bad))
    assert code == 1 and "not valid JSON" in err


def test_invalid_graph_lists_errors_by_node(capsys, tmp_path):
    graph = json.loads((ROOT / "examples/seed_cnn.json").read_text())
    graph["nodes"][5]["params"]["in_features"] = 100
    graph["nodes"][1]["type"] = "Conv2D"
    path = tmp_path / "g.json"
    path.write_text(json.dumps(graph))
    code, _, err = run(capsys, "validate", str(path))
    assert code == 1
    assert "conv1" in err and "did you mean Conv2d" in err
    code, _, err = run(capsys, "export", str(path))
    assert code == 1 and "conv1" in err


def test_script_export_without_data_is_a_clear_error(capsys, tmp_path):
    graph = json.loads((ROOT / "examples/seed_cnn.json").read_text())
    del graph["data"]
    path = tmp_path / "g.json"
    path.write_text(json.dumps(graph))
    code, _, err = run(capsys, "export", str(path), "--format", "script")
    assert code == 1 and "data" in err


def test_console_script_entry_point(tmp_path):
    exe = Path(sys.executable).parent / "torchcanvas"
    result = subprocess.run([str(exe), "validate", str(ROOT / "examples/seed_cnn.json")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "2,730 parameters" in result.stdout


def test_max_params_flag_sets_the_limit(tmp_path, monkeypatch):
    from server.cli import main

    monkeypatch.setenv("TORCHCANVAS_MAX_PARAMS", "1")  # restored after the test
    g = {"nodes": [{"id": "x", "type": "Input", "params": {"shape": [100]}},
                   {"id": "fc", "type": "Linear", "params": {"out_features": 100},
                    "inputs": ["x"]}]}  # 10,100 parameters
    path = tmp_path / "g.json"
    path.write_text(json.dumps(g), encoding="utf-8")
    assert main(["validate", str(path), "--max-params", "10100"]) == 0
    assert main(["validate", str(path), "--max-params", "10099"]) == 1


def test_limit_flags_are_on_validate_export_train_and_serve():
    from server.cli import build_parser

    parser = build_parser()
    for argv in (["validate", "g.json"], ["export", "g.json"], ["train", "g.json"], ["serve"]):
        args = parser.parse_args([*argv, "--max-params", "129_000_000", "--max-nodes", "3000"])
        assert (args.max_params, args.max_nodes) == (129_000_000, 3000)


@pytest.mark.parametrize("extra, said", [
    (["--input-shape", "1,a"], "--input-shape '1,a': give sizes like 1,28,28"),
    (["--input-shape", "1,28,28", "--input-shape", "10"],
     "2 input shapes given but forward() takes 1 argument(s)"),
    (["--input-shape", "1,28,28", "--vocab", "10", "--input-dtype", "float"],
     "a vocab bounds token ids: it needs --input-dtype long"),
])
def test_import_input_options_are_checked(capsys, tmp_path, extra, said):
    source = f"{ROOT / 'tests' / 'importers' / 'mnist_net.py'}:Net"
    code, _, err = run(capsys, "import", source, *extra, "-o", str(tmp_path / "g.json"))
    assert code == 1 and said in err and "Traceback" not in err


def test_import_help_names_the_input_options(capsys):
    with pytest.raises(SystemExit):
        main(["import", "--help"])
    out = capsys.readouterr().out
    assert "--input-dtype {float,long}" in out and "--vocab" in out and \
        "once per forward() argument" in out
