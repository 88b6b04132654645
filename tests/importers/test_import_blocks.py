"""`torchcanvas import torchvision:NAME` gives blocks: one per submodule class, reused.

The oracle is the installed torchvision (pytorch/vision 0.29): the classes each
architecture's source defines as submodules with a forward of their own
(torchvision/models/resnet.py `BasicBlock`, mobilenetv2.py `InvertedResidual`,
squeezenet.py `Fire`, densenet.py `_DenseLayer` and `_DenseBlock`,
efficientnet.py `MBConv` with torchvision/ops/misc.py `SqueezeExcitation`,
shufflenetv2.py `InvertedResidual`), its module paths, and its weights: the
graph's exported code must load the ORIGINAL model's `state_dict` strictly and
compute its outputs (eval mode, atol 1e-5).
"""

from __future__ import annotations

import json

import pytest
import torch

from server.cli import main
from server.compiler import compile_graph
from server.export import export_code
from server.importers import import_source
from tests.core.support import exported_class

BLOCK_CLASSES = {
    "resnet18": {"torchvision.models.resnet.BasicBlock"},
    "mobilenet_v2": {"torchvision.models.mobilenetv2.InvertedResidual"},
    "squeezenet1_1": {"torchvision.models.squeezenet.Fire"},
    "densenet121": {"torchvision.models.densenet._DenseLayer",
                    "torchvision.models.densenet._DenseBlock"},
    "efficientnet_b0": {"torchvision.models.efficientnet.MBConv",
                        "torchvision.ops.misc.SqueezeExcitation"},
    "shufflenet_v2_x0_5": {"torchvision.models.shufflenetv2.InvertedResidual"},
}
SHAPE = [3, 64, 64]


def _qualified(module: torch.nn.Module) -> str:
    return f"{type(module).__module__}.{type(module).__qualname__}"


def _instances(graph: dict, blocks: dict) -> list[tuple[str, dict]]:
    """(path, node) of every block instance, at every depth, with its full module path."""
    out = []

    def walk(nodes: list[dict], prefix: str) -> None:
        for node in nodes:
            if node["type"].startswith("block:"):
                path = prefix + node.get("name", node["id"])
                out.append((path, node))
                walk(blocks[node["type"][6:]]["nodes"], path + ".")

    walk(graph["nodes"], "")
    return out


@pytest.mark.parametrize("name", sorted(BLOCK_CLASSES))
def test_a_zoo_model_imports_with_one_block_per_class_and_keeps_its_weights(name, tmp_path):
    import torchvision

    out = tmp_path / f"{name}.json"
    assert main(["import", f"torchvision:{name}", "--input-shape", ",".join(map(str, SHAPE)),
                 "-o", str(out)]) == 0
    graph = json.loads(out.read_text())
    torch.manual_seed(0)
    original = torchvision.models.get_model(name, weights=None).eval()
    modules = dict(original.named_modules())

    # Each block stands for one torchvision class (a class wired two ways, with and
    # without a downsample, gives two variants); every instance sits at its path.
    blocks = graph["blocks"]
    described = {b["description"].split(":")[0].removeprefix("Imported from ")
                 for b in blocks.values()}
    assert described == BLOCK_CLASSES[name]
    instances = _instances(graph, blocks)
    expected = [p for p, m in modules.items() if _qualified(m) in BLOCK_CLASSES[name]]
    assert sorted(p for p, _ in instances) == sorted(expected)
    for path, node in instances:
        block = blocks[node["type"][6:]]
        assert _qualified(modules[path]) in block["description"]
    assert len(instances) > len(blocks)  # reused, not one block per instance
    assert len(graph["nodes"]) < 40  # the top level is a stem, the blocks and a head

    # The exported code (one class per block) loads torchvision's own state_dict.
    exported = exported_class(export_code(graph))().eval()
    exported.load_state_dict(original.state_dict(), strict=True)
    x = torch.randn(2, *SHAPE)
    with torch.no_grad():
        want = original(x)
        torch.testing.assert_close(exported(x), want, atol=1e-5, rtol=1e-4)
        # ... and so does the graph's compiled module.
        compiled = compile_graph(graph).eval()
        compiled.load_state_dict(original.state_dict(), strict=True)
        torch.testing.assert_close(compiled(x), want, atol=1e-5, rtol=1e-4)
    # The weights written beside the graph are the imported model's, under the same keys.
    written = torch.load(out.with_suffix(".pt"), weights_only=True)
    assert {k: v.shape for k, v in written.items()} == \
        {k: v.shape for k, v in original.state_dict().items()}


def test_blocks_expose_what_their_instances_differ_in():
    graph = import_source("torchvision:resnet18", input_shape=SHAPE).graph
    plain, down = graph["blocks"]["BasicBlock"], graph["blocks"]["BasicBlockDownsample"]
    # stage widths differ between instances: one exposed param feeds both convolutions
    assert plain["params"] == {"out_channels": {"default": 64}}
    convs = [n for n in plain["nodes"] if n["type"] == "Conv2d"]
    assert [c["params"]["out_channels"] for c in convs] == ["$out_channels"] * 2
    # inferred sizes are left to the instance's input
    assert all("in_channels" not in c["params"] for c in convs)
    assert [n["name"] for n in down["nodes"] if n["id"].startswith("downsample")] == \
        ["downsample.0", "downsample.1"]
    widths = [n["params"].get("out_channels") for n in graph["nodes"]
              if n["type"].startswith("block:")]
    assert widths == [64, 64, 128, 128, 256, 256, 512, 512]


def test_densenet_layers_share_one_block_once_their_concatenation_moves_out():
    # torchvision's _DenseLayer concatenates every earlier feature map first: a
    # different number of inputs per layer. The concatenation runs in the _DenseBlock,
    # and all 58 layers are instances of one DenseLayer block.
    graph = import_source("torchvision:densenet121", input_shape=SHAPE).graph
    blocks = graph["blocks"]
    layer = blocks["DenseLayer"]
    assert [n["type"] for n in layer["nodes"]] == ["Input", "BatchNorm2d", "ReLU", "Conv2d",
                                                   "BatchNorm2d", "ReLU", "Conv2d"]
    dense_blocks = {k: b for k, b in blocks.items() if k.startswith("DenseBlock")}
    counts = sorted(sum(n["type"] == "block:DenseLayer" for n in b["nodes"])
                    for b in dense_blocks.values())
    assert counts == [6, 12, 16, 24]


def test_flat_import_on_request():
    import torchvision

    from server.importers.fx_trace import import_module

    model = torchvision.models.get_model("resnet18", weights=None)
    flat = import_module(model, SHAPE, blocks=False).graph
    assert "blocks" not in flat and len(flat["nodes"]) > 60


def test_an_instance_whose_path_is_no_name_is_renamed_one_to_one():
    # torchvision/models/regnet.py names stage members `block1-0`: no attribute can be.
    import torchvision

    torch.manual_seed(0)
    original = torchvision.models.get_model("regnet_x_400mf", weights=None).eval()
    result = import_source("torchvision:regnet_x_400mf", input_shape=SHAPE)
    assert "ResBottleneckBlock" in result.graph["blocks"]
    own = original.state_dict()
    assert sorted(result.original_keys.values()) == sorted(own)
    assert "trunk_output.block1.block1-0.f.a.0.weight" in result.original_keys.values()
    compiled = compile_graph(result.graph).eval()
    compiled.load_state_dict({k: own[v] for k, v in result.original_keys.items()}, strict=True)
    x = torch.randn(2, *SHAPE)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), original(x), atol=1e-5, rtol=1e-4)


# A user's own file: kuangliu/pytorch-cifar's ResNets (models/resnet.py, restated in
# cifar_models.py) and blocks kept in an nn.ModuleList.
USER_MODELS = {"ResNet18": ([3, 32, 32], {"BasicBlock", "BasicBlockShortcut"}),
               "PreActResNet18": ([3, 32, 32], {"PreActBlock", "PreActBlockShortcut"}),
               "ResNet50": ([3, 32, 32], {"Bottleneck", "Bottleneck2"}),
               "Stack": ([4], {"Mlp"})}


@pytest.mark.parametrize("cls", sorted(USER_MODELS))
def test_a_users_file_imports_with_its_blocks(cls):
    from . import cifar_models

    shape, blocks = USER_MODELS[cls]
    source = f"{cifar_models.__file__}:{cls}"
    graph = import_source(source, input_shape=shape).graph
    assert set(graph["blocks"]) == blocks
    assert all(b["description"].startswith("Imported from cifar_models.")
               for b in graph["blocks"].values())
    torch.manual_seed(0)
    original = getattr(cifar_models, cls)().eval()
    exported = exported_class(export_code(graph))().eval()
    exported.load_state_dict(original.state_dict(), strict=True)
    x = torch.randn(2, *shape)
    with torch.no_grad():
        torch.testing.assert_close(exported(x), original(x), atol=1e-5, rtol=1e-4)
