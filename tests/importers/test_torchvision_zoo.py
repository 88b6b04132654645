"""Every classification architecture of the installed torchvision, imported or refused.

For each name in `torchvision.models.list_models(module=models)` the import
either gives a graph whose compiled module loads the ORIGINAL model's weights
(every key of its `state_dict`, renamed one to one by the import's flat names)
and computes its outputs (eval mode, atol 1e-5), or fails with a message
naming what it cannot map, with the torchvision source line. The oracle is the
installed torchvision's own classes (torchvision/models/*.py). Small inputs
(64x64, ViT built for 64) keep the suite fast; the layers are the same.

`make test` imports one architecture of each family (and each kind of refusal):
all 80 take 4-12 minutes on two cores. `TORCHCANVAS_FULL_ZOO=1` runs every one, and
`torchcanvas import --zoo` prints the tally.
"""

from __future__ import annotations

import fnmatch
import os

import pytest
import torch

from server.compiler import compile_graph
from server.importers import ImportFailed, import_source, torchvision_models
from server.importers.fx_trace import import_module

# Architectures that cannot be imported, and what the message must name.
REFUSED = {
    # layer_scale is a (C, 1, 1) tensor; a Parameter node holds (1, ...) tensors
    "convnext_*": ("a learned tensor of shape", "convnext.py:"),
    # shifted windows: relative position bias tables indexed in forward, torch.roll
    "swin_*": ("_get_relative_position_bias", "swin_transformer.py:"),
    "maxvit_t": ("einsum", "maxvit.py:"),
    # over the default parameter limit (250 M): refused before any weight is made
    "vit_l_16": ("over the limit",), "vit_l_32": ("over the limit",),
    "vit_h_14": ("over the limit",), "regnet_y_128gf": ("over the limit",),
}
# The auxiliary classifiers of GoogLeNet and Inception run only in training: the
# traced (eval) forward never calls them, so their weights have no node.
ARGS = {"vit_b_16": {"image_size": 64}, "vit_b_32": {"image_size": 64},
        "googlenet": {"aux_logits": False, "init_weights": True},
        "inception_v3": {"aux_logits": False, "init_weights": True}}
SHAPES = {"inception_v3": [3, 96, 96]}


# One of each family (the smallest), and one of each kind of refusal.
SAMPLE = {"alexnet", "convnext_tiny", "densenet121", "efficientnet_b0", "efficientnet_v2_s",
          "googlenet", "inception_v3", "maxvit_t", "mnasnet0_5", "mobilenet_v2",
          "mobilenet_v3_small", "regnet_x_400mf", "regnet_y_400mf", "regnet_y_128gf",
          "resnet18", "resnext50_32x4d", "shufflenet_v2_x0_5", "squeezenet1_0", "swin_t",
          "vgg11_bn", "vit_b_16", "vit_l_16", "wide_resnet50_2"}
NAMES = [n for n in torchvision_models()
         if os.environ.get("TORCHCANVAS_FULL_ZOO") == "1" or n in SAMPLE]


def refusal(name: str) -> tuple[str, ...] | None:
    return next((want for pattern, want in REFUSED.items() if fnmatch.fnmatch(name, pattern)),
                None)


def test_the_sample_names_exist():
    assert SAMPLE <= set(torchvision_models())


@pytest.mark.parametrize("name", NAMES)
def test_architecture_imports_with_its_weights_or_is_refused_clearly(name):
    import torchvision

    args, shape = ARGS.get(name, {}), SHAPES.get(name, [3, 64, 64])
    want = refusal(name)
    if want is not None:
        with pytest.raises(ImportFailed) as err:
            import_source(f"torchvision:{name}", args=args, input_shape=shape)
        for text in want:
            assert text in str(err.value), str(err.value)[:600]
        return
    torch.manual_seed(0)
    original = torchvision.models.get_model(name, weights=None, **args).eval()
    result = import_module(original, shape, name=name)
    # One graph key per original key, same tensors: the original state_dict loads strictly.
    own = original.state_dict()
    assert sorted(result.original_keys.values()) == sorted(own)
    renamed = {graph_key: own[key] for graph_key, key in result.original_keys.items()}
    compiled = compile_graph(result.graph).eval()
    compiled.load_state_dict(renamed, strict=True)
    x = torch.randn(2, *shape)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), original(x), atol=1e-5, rtol=1e-4)
