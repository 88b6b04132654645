"""Graphs with blocks, written from public source: torchvision's ResNet.

`resnet_graph` restates torchvision 0.29's `torchvision/models/resnet.py`
(pytorch/vision, `BasicBlock` and `ResNet._make_layer`) as graph format v1: one
`BasicBlock` definition and one `BasicBlockDown` (the same with the `downsample`
branch), each instance named `layerN.M` so the state_dict keys are torchvision's.
"""

from __future__ import annotations

from typing import Any


def n(id: str, type: str, inputs: list[Any] | None = None, name: str | None = None,
      **params: Any) -> dict[str, Any]:
    out = {"id": id, "type": type, "params": params, "inputs": inputs or []}
    if name is not None:
        out["name"] = name
    return out


def conv(id: str, src: str, out: Any, k: int, stride: Any = 1, pad: int = 0,
         name: str | None = None) -> dict[str, Any]:
    return n(id, "Conv2d", [src], name, out_channels=out, kernel_size=k, stride=stride,
             padding=pad, bias=False)


def basic_block(downsample: bool) -> dict[str, Any]:
    """torchvision's BasicBlock: conv3x3 -> bn -> relu -> conv3x3 -> bn, + identity, relu."""
    nodes = [
        n("x", "Input"),
        conv("conv1", "x", "$planes", 3, "$stride", 1),
        n("bn1", "BatchNorm2d", ["conv1"]),
        n("relu", "ReLU", ["bn1"]),
        conv("conv2", "relu", "$planes", 3, 1, 1),
        n("bn2", "BatchNorm2d", ["conv2"]),
    ]
    identity = "x"
    if downsample:
        nodes += [conv("ds_conv", "x", "$planes", 1, "$stride", name="downsample.0"),
                  n("ds_bn", "BatchNorm2d", ["ds_conv"], name="downsample.1")]
        identity = "ds_bn"
    nodes += [n("add", "Add", ["bn2", identity]), n("relu2", "ReLU", ["add"])]
    return {"nodes": nodes, "output": "relu2",
            "params": {"planes": {"default": 64}, "stride": {"default": 1}},
            "description": "ResNet's basic block: two 3x3 convolutions and a shortcut"
                           + (", downsampled by a 1x1 convolution" if downsample else "")}


def resnet_graph(layers: tuple[int, ...] = (2, 2, 2, 2), size: int = 64,
                 num_classes: int = 1000) -> dict[str, Any]:
    """ResNet-18 (layers 2, 2, 2, 2) on (3, size, size) images."""
    nodes = [
        n("image", "Input", shape=[3, size, size]),
        conv("conv1", "image", 64, 7, 2, 3),
        n("bn1", "BatchNorm2d", ["conv1"]),
        n("relu", "ReLU", ["bn1"]),
        n("maxpool", "MaxPool2d", ["relu"], kernel_size=3, stride=2, padding=1),
    ]
    last, inplanes = "maxpool", 64
    for stage, (planes, count) in enumerate(zip((64, 128, 256, 512), layers, strict=True), 1):
        for i in range(count):
            stride = 2 if stage > 1 and i == 0 else 1
            down = i == 0 and (stride != 1 or inplanes != planes)
            nid = f"layer{stage}_{i}"
            nodes.append(n(nid, "block:BasicBlockDown" if down else "block:BasicBlock", [last],
                           f"layer{stage}.{i}", planes=planes, stride=stride))
            last, inplanes = nid, planes
    nodes += [n("avgpool", "AdaptiveAvgPool2d", [last], output_size=[1, 1]),
              n("flatten", "Flatten", ["avgpool"]),
              n("fc", "Linear", ["flatten"], out_features=num_classes)]
    return {"version": 1, "name": "ResNet", "nodes": nodes,
            "blocks": {"BasicBlock": basic_block(False), "BasicBlockDown": basic_block(True)}}
