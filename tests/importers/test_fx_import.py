"""`torchcanvas import` of PyTorch code: the original model is the oracle.

Each imported graph is validated, compiled and exported; the exported class
(and the compiled module) must load the ORIGINAL model's `state_dict` strictly
(module names are kept) and give its outputs in eval mode. torchvision models
come from the installed torchvision's own classes (torchvision/models/*.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from server.cli import main
from server.compiler import compile_graph
from server.export import export_code
from server.importers import ImportFailed, import_source
from tests.core.support import exported_class

from .mnist_net import Net

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
MNIST_SOURCE = f"{HERE / 'mnist_net.py'}:Net"


def same_outputs(a: torch.nn.Module, b: torch.nn.Module, shape: list[int]) -> None:
    a.eval()
    b.eval()
    x = torch.randn(2, *shape)
    with torch.no_grad():
        assert torch.allclose(a(x), b(x), atol=1e-5)


def test_mnist_net_from_its_source_file():
    # pytorch/examples, mnist/main.py: Net (copied layer for layer in mnist_net.py)
    result = import_source(MNIST_SOURCE, input_shape=[1, 28, 28])
    types = [n["type"] for n in result.graph["nodes"]]
    assert types == ["Input", "Conv2d", "ReLU", "Conv2d", "ReLU", "MaxPool2d", "Dropout",
                     "Flatten", "Linear", "ReLU", "Dropout", "Linear", "LogSoftmax"]
    original = Net()
    exported = exported_class(export_code(result.graph))()
    exported.load_state_dict(original.state_dict(), strict=True)
    same_outputs(exported, original, [1, 28, 28])
    compiled = compile_graph(result.graph)
    compiled.load_state_dict(original.state_dict(), strict=True)
    same_outputs(compiled, original, [1, 28, 28])


def test_imported_weights_are_the_originals():
    torch.manual_seed(3)
    result = import_source(MNIST_SOURCE, input_shape=[1, 28, 28])
    compiled = compile_graph(result.graph)
    compiled.load_state_dict(result.state_dict, strict=True)
    # The file's Net was built inside import_source with its own random weights.
    assert set(result.state_dict) == set(Net().state_dict())


def test_view_size_flatten_and_functional_merge():
    result = import_source(f"{HERE / 'mnist_net.py'}:Tutorial", input_shape=[3, 6, 6])
    types = [n["type"] for n in result.graph["nodes"]]
    assert "Flatten" in types and "Add" in types and types[-1] == "Softmax"
    from .mnist_net import Tutorial

    original = Tutorial()
    exported = exported_class(export_code(result.graph))()
    exported.load_state_dict(original.state_dict(), strict=True)
    same_outputs(exported, original, [3, 6, 6])


@pytest.mark.parametrize("name", ["squeezenet1_1", "densenet121", "resnet18"])
def test_torchvision_architectures_compute_the_same(name):
    # The installed torchvision's classes are the oracle (torchvision/models/NAME.py).
    import torchvision

    result = import_source(f"torchvision:{name}")
    original = torchvision.models.get_model(name, weights=None)
    original.load_state_dict(dict(original.state_dict()))
    compiled = compile_graph(result.graph)
    compiled.load_state_dict(result.state_dict, strict=True)
    same_outputs(compiled, import_source_model(name, result), [3, 224, 224])
    # Module paths are node names: the keys are torchvision's own, and the exported
    # class loads an original checkpoint strictly, with no key mapping.
    assert sorted(compiled.state_dict()) == sorted(original.state_dict())
    exported = exported_class(export_code(result.graph))()
    exported.load_state_dict(original.state_dict(), strict=True)
    same_outputs(exported, original, [3, 224, 224])


def import_source_model(name, result):
    """The torchvision model whose weights the import copied (rebuilt from them)."""
    import torchvision

    model = torchvision.models.get_model(name, weights=None)
    state = {result.original_keys[k]: v for k, v in result.state_dict.items()}
    model.load_state_dict(state, strict=True)
    return model


def test_unmapped_operations_are_named_with_their_source_line():
    with pytest.raises(ImportFailed) as err:
        import_source(f"{HERE / 'mnist_net.py'}:Rolls", input_shape=[8])
    text = str(err.value)
    assert "torch.roll" in text and "mnist_net.py:" in text
    assert "get_attr scale" in text
    assert "use --partial" in text


def test_partial_keeps_what_maps_and_lists_the_rest():
    result = import_source(f"{HERE / 'mnist_net.py'}:Rolls", input_shape=[8], partial=True)
    assert [n["id"] for n in result.graph["nodes"]] == ["x", "fc"]
    assert any("torch.roll" in u for u in result.graph["ui"]["import"]["unmapped"])


def test_cli_writes_the_graph_and_its_weights(tmp_path, capsys):
    out = tmp_path / "net.json"
    code = main(["import", MNIST_SOURCE, "--input-shape", "1,28,28", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    graph = json.loads(out.read_text())
    assert graph["name"] == "Net"
    state = torch.load(tmp_path / "net.pt", weights_only=True)
    compile_graph(graph).load_state_dict(state, strict=True)


def test_cli_refusals(tmp_path, capsys):
    assert main(["import", MNIST_SOURCE, "-o", str(tmp_path / "g.json")]) == 1
    assert "--input-shape" in capsys.readouterr().err
    assert main(["import", "torchvision:resnet9000", "-o", str(tmp_path / "g.json")]) == 1
    assert "no classification model 'resnet9000'" in capsys.readouterr().err
    assert main(["import", "nothing.py:Net", "--input-shape", "3", "-o",
                 str(tmp_path / "g.json")]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["import", MNIST_SOURCE, "--input-shape", "1,28,28", "--args", "[1]",
                 "-o", str(tmp_path / "g.json")]) == 1
    assert "JSON object" in capsys.readouterr().err
    assert not (tmp_path / "g.json").exists()
