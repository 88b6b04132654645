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


# -- torchvision mobilenet_v2 (torchvision/models/mobilenetv2.py) -------------------------


def _conv_bn_relu6(prefix: str, src: str, ids: str, out: Any, k: int, stride: Any = 1,
                   groups: Any = 1) -> list[dict[str, Any]]:
    """torchvision.ops.Conv2dNormActivation: conv (padding (k-1)//2, no bias), BN, ReLU6."""
    return [n(f"{ids}_conv", "Conv2d", [src], f"{prefix}.0", out_channels=out, kernel_size=k,
              stride=stride, padding=(k - 1) // 2, groups=groups, bias=False),
            n(f"{ids}_bn", "BatchNorm2d", [f"{ids}_conv"], f"{prefix}.1"),
            n(f"{ids}_act", "ReLU6", [f"{ids}_bn"], f"{prefix}.2")]


def inverted_residual(expand: bool, residual: bool) -> dict[str, Any]:
    """mobilenetv2.py's InvertedResidual: [1x1 expand], 3x3 depthwise, 1x1 project, + x."""
    nodes, last, i = [n("x", "Input")], "x", 0
    if expand:
        nodes += _conv_bn_relu6("conv.0", "x", "expand", "$hidden", 1)
        last, i = "expand_act", 1
    nodes += _conv_bn_relu6(f"conv.{i}", last, "dw", "$hidden", 3, "$stride", "$hidden")
    nodes += [n("project", "Conv2d", ["dw_act"], f"conv.{i + 1}", out_channels="$out",
                kernel_size=1, bias=False),
              n("project_bn", "BatchNorm2d", ["project"], f"conv.{i + 2}")]
    out = "project_bn"
    if residual:
        nodes.append(n("add", "Add", ["x", "project_bn"]))
        out = "add"
    return {"nodes": nodes, "output": out,
            "params": {"hidden": {}, "out": {}, "stride": {"default": 1}}}


def mobilenet_v2_graph(size: int = 64, num_classes: int = 1000) -> dict[str, Any]:
    settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                (6, 160, 3, 2), (6, 320, 1, 1)]
    nodes = [n("image", "Input", shape=[3, size, size]),
             *_conv_bn_relu6("features.0", "image", "stem", 32, 3, 2)]
    last, inp, index = "stem_act", 32, 1
    for t, c, count, s in settings:
        for i in range(count):
            stride = s if i == 0 else 1
            residual = stride == 1 and inp == c
            kind = f"InvertedResidual{'E' if t != 1 else ''}{'R' if residual else ''}"
            nodes.append(n(f"ir{index}", f"block:{kind}", [last], f"features.{index}",
                           hidden=inp * t, out=c, stride=stride))
            last, inp, index = f"ir{index}", c, index + 1
    nodes += _conv_bn_relu6(f"features.{index}", last, "head", 1280, 1)
    nodes += [n("pool", "AdaptiveAvgPool2d", ["head_act"], output_size=[1, 1]),
              n("flatten", "Flatten", ["pool"]),
              n("dropout", "Dropout", ["flatten"], "classifier.0", p=0.2),
              n("fc", "Linear", ["dropout"], "classifier.1", out_features=num_classes)]
    blocks = {f"InvertedResidual{'E' if e else ''}{'R' if r else ''}": inverted_residual(e, r)
              for e in (False, True) for r in (False, True)}
    used = {node["type"].split(":", 1)[1] for node in nodes if node["type"].startswith("block:")}
    return {"version": 1, "name": "MobileNetV2", "nodes": nodes,
            "blocks": {k: v for k, v in blocks.items() if k in used}}


# -- torchvision densenet (torchvision/models/densenet.py) --------------------------------


def dense_layer() -> dict[str, Any]:
    """densenet.py's _DenseLayer (drop_rate 0): BN-ReLU-1x1 conv, BN-ReLU-3x3 conv."""
    return {"nodes": [
        n("x", "Input"), n("norm1", "BatchNorm2d", ["x"]), n("relu1", "ReLU", ["norm1"]),
        n("conv1", "Conv2d", ["relu1"], out_channels="$bottleneck", kernel_size=1, bias=False),
        n("norm2", "BatchNorm2d", ["conv1"]), n("relu2", "ReLU", ["norm2"]),
        n("conv2", "Conv2d", ["relu2"], out_channels="$growth", kernel_size=3, padding=1,
          bias=False)],
        "output": "conv2", "params": {"bottleneck": {"default": 128}, "growth": {"default": 32}}}


def dense_block(layers: int) -> dict[str, Any]:
    """densenet.py's _DenseBlock: each layer reads all earlier features, concatenated."""
    nodes, features = [n("x", "Input")], "x"
    for i in range(1, layers + 1):
        nodes += [n(f"denselayer{i}", "block:DenseLayer", [features]),
                  n(f"cat{i}", "Concat", [features, f"denselayer{i}"])]
        features = f"cat{i}"
    return {"nodes": nodes, "output": features}


def densenet_graph(config: tuple[int, ...] = (6, 12, 24, 16), size: int = 64,
                   num_classes: int = 1000) -> dict[str, Any]:
    """densenet121 (config 6, 12, 24, 16; 64 initial features) or densenet169 (6, 12, 32, 32)."""
    nodes = [n("image", "Input", shape=[3, size, size]),
             conv("conv0", "image", 64, 7, 2, 3, name="features.conv0"),
             n("norm0", "BatchNorm2d", ["conv0"], "features.norm0"),
             n("relu0", "ReLU", ["norm0"], "features.relu0"),
             n("pool0", "MaxPool2d", ["relu0"], "features.pool0", kernel_size=3, stride=2,
               padding=1)]
    last, channels = "pool0", 64
    for i, count in enumerate(config, 1):
        nodes.append(n(f"denseblock{i}", f"block:DenseBlock{count}", [last],
                       f"features.denseblock{i}"))
        last, channels = f"denseblock{i}", channels + 32 * count
        if i != len(config):
            t = f"features.transition{i}"
            nodes += [n(f"t{i}_norm", "BatchNorm2d", [last], f"{t}.norm"),
                      n(f"t{i}_relu", "ReLU", [f"t{i}_norm"], f"{t}.relu"),
                      conv(f"t{i}_conv", f"t{i}_relu", channels // 2, 1, name=f"{t}.conv"),
                      n(f"t{i}_pool", "AvgPool2d", [f"t{i}_conv"], f"{t}.pool", kernel_size=2,
                        stride=2)]
            last, channels = f"t{i}_pool", channels // 2
    nodes += [n("norm5", "BatchNorm2d", [last], "features.norm5"),
              n("relu", "ReLU", ["norm5"]),
              n("pool", "AdaptiveAvgPool2d", ["relu"], output_size=[1, 1]),
              n("flatten", "Flatten", ["pool"]),
              n("fc", "Linear", ["flatten"], "classifier", out_features=num_classes)]
    blocks = {"DenseLayer": dense_layer()}
    blocks |= {f"DenseBlock{c}": dense_block(c) for c in sorted(set(config))}
    return {"version": 1, "name": "DenseNet", "nodes": nodes, "blocks": blocks}


# -- torchvision vision_transformer (torchvision/models/vision_transformer.py) -------------


def vit_encoder_block() -> dict[str, Any]:
    """EncoderBlock: x + attention(ln_1(x)), then + mlp(ln_2(.)); MLPBlock is
    torchvision.ops.MLP: Linear, GELU, Dropout, Linear, Dropout (keys mlp.0, mlp.3)."""
    return {"nodes": [
        n("x", "Input"),
        n("ln_1", "LayerNorm", ["x"], eps=1e-6),
        n("self_attention", "MultiheadAttention", ["ln_1"], num_heads="$heads"),
        n("dropout", "Dropout", ["self_attention"], p=0.0),
        n("res1", "Add", ["dropout", "x"]),
        n("ln_2", "LayerNorm", ["res1"], eps=1e-6),
        n("fc1", "Linear", ["ln_2"], "mlp.0", out_features="$mlp_dim"),
        n("gelu", "GELU", ["fc1"], "mlp.1"),
        n("drop1", "Dropout", ["gelu"], "mlp.2", p=0.0),
        n("fc2", "Linear", ["drop1"], "mlp.3", out_features="$hidden"),
        n("drop2", "Dropout", ["fc2"], "mlp.4", p=0.0),
        n("res2", "Add", ["res1", "drop2"])],
        "output": "res2",
        "params": {"heads": {"default": 12}, "hidden": {"default": 768},
                   "mlp_dim": {"default": 3072}},
        "description": "ViT's encoder block: self-attention and an MLP, each with a residual"}


def vit_graph(image: int = 32, patch: int = 16, layers: int = 2, heads: int = 2,
              hidden: int = 64, mlp_dim: int = 128, classes: int = 10) -> dict[str, Any]:
    """VisionTransformer: patches by a strided conv, a class token, the encoder, head."""
    seq = (image // patch) ** 2 + 1
    encoder = [n("x", "Input"), n("pos_embedding", "Parameter", shape=[seq, hidden]),
               n("pos", "Add", ["x", "pos_embedding"]), n("dropout", "Dropout", ["pos"], p=0.0)]
    last = "dropout"
    for i in range(layers):
        encoder.append(n(f"layer{i}", "block:EncoderBlock", [last],
                         f"layers.encoder_layer_{i}", heads=heads, hidden=hidden,
                         mlp_dim=mlp_dim))
        last = f"layer{i}"
    encoder.append(n("ln", "LayerNorm", [last], eps=1e-6))
    nodes = [
        n("image", "Input", shape=[3, image, image]),
        n("conv_proj", "Conv2d", ["image"], out_channels=hidden, kernel_size=patch,
          stride=patch),
        n("patches", "Reshape", ["conv_proj"], shape=[hidden, seq - 1]),
        n("tokens", "Permute", ["patches"], dims=[2, 1]),
        n("class_token", "Parameter", shape=[1, hidden]),
        n("cat", "Concat", ["class_token", "tokens"], dim=1),
        n("encoder", "block:Encoder", ["cat"]),
        n("first", "Select", ["encoder"], dim=1, index=0),
        n("head", "Linear", ["first"], "heads.head", out_features=classes)]
    return {"version": 1, "name": "VisionTransformer", "nodes": nodes,
            "blocks": {"EncoderBlock": vit_encoder_block(),
                       "Encoder": {"nodes": encoder, "output": "ln"}}}


# -- torchvision vgg11 and squeezenet1_1 (torchvision/models/vgg.py, squeezenet.py) --------


def vgg11_graph(size: int = 32, num_classes: int = 1000) -> dict[str, Any]:
    """vgg.py's cfg "A" through make_layers: features.0..20, avgpool (7, 7), classifier."""
    nodes, last, i = [n("image", "Input", shape=[3, size, size])], "image", 0
    for v in (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"):
        if v == "M":
            nodes.append(n(f"pool{i}", "MaxPool2d", [last], f"features.{i}", kernel_size=2,
                           stride=2))
            last, i = f"pool{i}", i + 1
        else:
            nodes += [n(f"conv{i}", "Conv2d", [last], f"features.{i}", out_channels=v,
                        kernel_size=3, padding=1),
                      n(f"relu{i + 1}", "ReLU", [f"conv{i}"], f"features.{i + 1}")]
            last, i = f"relu{i + 1}", i + 2
    nodes += [n("avgpool", "AdaptiveAvgPool2d", [last], "avgpool", output_size=[7, 7]),
              n("flatten", "Flatten", ["avgpool"])]
    last = "flatten"
    for j, (kind, params) in enumerate([("Linear", {"out_features": 4096}), ("ReLU", {}),
                                        ("Dropout", {}), ("Linear", {"out_features": 4096}),
                                        ("ReLU", {}), ("Dropout", {}),
                                        ("Linear", {"out_features": num_classes})]):
        nodes.append(n(f"c{j}", kind, [last], f"classifier.{j}", **params))
        last = f"c{j}"
    return {"version": 1, "name": "VGG", "nodes": nodes}


def fire_block() -> dict[str, Any]:
    """squeezenet.py's Fire: a 1x1 squeeze, then 1x1 and 3x3 expands side by side."""
    return {"nodes": [
        n("x", "Input"),
        n("squeeze", "Conv2d", ["x"], out_channels="$squeeze", kernel_size=1),
        n("squeeze_activation", "ReLU", ["squeeze"]),
        n("expand1x1", "Conv2d", ["squeeze_activation"], out_channels="$expand", kernel_size=1),
        n("expand1x1_activation", "ReLU", ["expand1x1"]),
        n("expand3x3", "Conv2d", ["squeeze_activation"], out_channels="$expand",
          kernel_size=3, padding=1),
        n("expand3x3_activation", "ReLU", ["expand3x3"]),
        n("cat", "Concat", ["expand1x1_activation", "expand3x3_activation"])],
        "output": "cat", "params": {"squeeze": {}, "expand": {}}}


def squeezenet1_1_graph(size: int = 64, num_classes: int = 1000) -> dict[str, Any]:
    def pool(i: int, src: str) -> dict[str, Any]:
        return n(f"pool{i}", "MaxPool2d", [src], f"features.{i}", kernel_size=3, stride=2,
                 ceil_mode=True)

    nodes = [n("image", "Input", shape=[3, size, size]),
             n("conv0", "Conv2d", ["image"], "features.0", out_channels=64, kernel_size=3,
               stride=2),
             n("relu1", "ReLU", ["conv0"], "features.1"), pool(2, "relu1")]
    last = "pool2"
    for i, fire in enumerate([(16, 64), (16, 64), "M", (32, 128), (32, 128), "M", (48, 192),
                              (48, 192), (64, 256), (64, 256)], start=3):
        if fire == "M":
            nodes.append(pool(i, last))
            last = f"pool{i}"
            continue
        nodes.append(n(f"fire{i}", "block:Fire", [last], f"features.{i}", squeeze=fire[0],
                       expand=fire[1]))
        last = f"fire{i}"
    nodes += [n("drop", "Dropout", [last], "classifier.0", p=0.5),
              n("final_conv", "Conv2d", ["drop"], "classifier.1", out_channels=num_classes,
                kernel_size=1),
              n("relu", "ReLU", ["final_conv"], "classifier.2"),
              n("pool", "AdaptiveAvgPool2d", ["relu"], "classifier.3", output_size=[1, 1]),
              n("flatten", "Flatten", ["pool"])]
    return {"version": 1, "name": "SqueezeNet", "nodes": nodes, "blocks": {"Fire": fire_block()}}


# -- karpathy/nanoGPT (model.py, commit 3adf61e): GPT of Blocks -----------------------


def gpt_attention(heads: int, bias: bool = True) -> dict[str, Any]:
    """CausalSelfAttention: c_attn -> q, k, v -> causal attention per head -> c_proj."""
    return {"nodes": [
        n("x", "Input"),
        n("c_attn", "Linear", ["x"], out_features="$qkv", bias=bias),
        n("qkv", "Chunk", ["c_attn"], chunks=3, dim=2),
        n("attention", "ScaledDotProductAttention",
          [{"node": "qkv", "port": p} for p in range(3)], num_heads=heads, causal=True),
        n("c_proj", "Linear", ["attention"], out_features="$n_embd", bias=bias),
        n("resid_dropout", "Dropout", ["c_proj"], p="$dropout")],
        "output": "resid_dropout",
        "params": {"n_embd": {}, "qkv": {}, "dropout": {"default": 0.0}},
        "description": "nanoGPT's causal self-attention: each position attends to itself "
                       "and the positions before it"}


def gpt_mlp() -> dict[str, Any]:
    return {"nodes": [
        n("x", "Input"),
        n("c_fc", "Linear", ["x"], out_features="$hidden"),
        n("gelu", "GELU", ["c_fc"]),
        n("c_proj", "Linear", ["gelu"], out_features="$n_embd"),
        n("dropout", "Dropout", ["c_proj"], p="$dropout")],
        "output": "dropout",
        "params": {"n_embd": {}, "hidden": {}, "dropout": {"default": 0.0}},
        "description": "nanoGPT's MLP: widen four times, GELU, back"}


def gpt_block() -> dict[str, Any]:
    """Block: x + attn(ln_1(x)), then x + mlp(ln_2(x))."""
    return {"nodes": [
        n("x", "Input"),
        n("ln_1", "LayerNorm", ["x"]),
        n("attn", "block:CausalSelfAttention", ["ln_1"], n_embd="$n_embd", qkv="$qkv",
          dropout="$dropout"),
        n("res_1", "Add", ["x", "attn"]),
        n("ln_2", "LayerNorm", ["res_1"]),
        n("mlp", "block:MLP", ["ln_2"], n_embd="$n_embd", hidden="$hidden", dropout="$dropout"),
        n("res_2", "Add", ["res_1", "mlp"])],
        "output": "res_2",
        "params": {"n_embd": {}, "qkv": {}, "hidden": {}, "dropout": {"default": 0.0}},
        "description": "nanoGPT's transformer block: attention and an MLP, each after a "
                       "LayerNorm and added back to the stream"}


def gpt_graph(vocab: int = 65, block_size: int = 32, n_layer: int = 2, n_head: int = 4,
              n_embd: int = 48, dropout: float = 0.0) -> dict[str, Any]:
    """GPT: token and position embeddings, n_layer Blocks, ln_f, lm_head (every position)."""
    nodes = [n("idx", "Input", shape=[block_size], dtype="long", vocab=vocab),
             n("wte", "Embedding", ["idx"], "transformer.wte", num_embeddings=vocab,
               embedding_dim=n_embd),
             n("wpe", "PositionalEmbedding", ["wte"], "transformer.wpe",
               num_embeddings=block_size),
             n("drop", "Dropout", ["wpe"], "transformer.drop", p=dropout)]
    last = "drop"
    for i in range(n_layer):
        nodes.append(n(f"h{i}", "block:Block", [last], f"transformer.h.{i}", n_embd=n_embd,
                       qkv=3 * n_embd, hidden=4 * n_embd, dropout=dropout))
        last = f"h{i}"
    nodes += [n("ln_f", "LayerNorm", [last], "transformer.ln_f"),
              n("lm_head", "Linear", ["ln_f"], "lm_head", out_features=vocab, bias=False)]
    return {"version": 1, "name": "GPT", "nodes": nodes,
            "blocks": {"CausalSelfAttention": gpt_attention(n_head), "MLP": gpt_mlp(),
                       "Block": gpt_block()}}


# -- torchvision googlenet (torchvision/models/googlenet.py): Inception blocks -------------


def basic_conv2d() -> dict[str, Any]:
    """googlenet.py's BasicConv2d: conv (no bias), BatchNorm (eps 0.001), relu."""
    return {"nodes": [
        n("x", "Input"),
        n("conv", "Conv2d", ["x"], out_channels="$out", kernel_size="$k", stride="$stride",
          padding="$padding", bias=False),
        n("bn", "BatchNorm2d", ["conv"], eps=0.001),
        n("relu", "ReLU", ["bn"])],
        "output": "relu",
        "params": {"out": {}, "k": {"default": 1}, "stride": {"default": 1},
                   "padding": {"default": 0}}}


def inception_block() -> dict[str, Any]:
    """googlenet.py's Inception: four branches side by side, concatenated (branch3's
    "5x5" is a 3x3, as torchvision keeps it)."""
    def conv(id_: str, src: str, name: str, out: str, k: int = 1, pad: int = 0):
        return n(id_, "block:BasicConv2d", [src], name, out=out, k=k, padding=pad)

    return {"nodes": [
        n("x", "Input"),
        conv("b1", "x", "branch1", "$ch1x1"),
        conv("b2a", "x", "branch2.0", "$ch3x3red"),
        conv("b2b", "b2a", "branch2.1", "$ch3x3", 3, 1),
        conv("b3a", "x", "branch3.0", "$ch5x5red"),
        conv("b3b", "b3a", "branch3.1", "$ch5x5", 3, 1),
        n("pool", "MaxPool2d", ["x"], "branch4.0", kernel_size=3, stride=1, padding=1,
          ceil_mode=True),
        conv("b4", "pool", "branch4.1", "$pool_proj"),
        n("cat", "Concat", ["b1", "b2b", "b3b", "b4"])],
        "output": "cat",
        "params": {k: {} for k in ("ch1x1", "ch3x3red", "ch3x3", "ch5x5red", "ch5x5",
                                   "pool_proj")}}


def googlenet_graph(size: int = 64, num_classes: int = 1000) -> dict[str, Any]:
    """GoogLeNet without its auxiliary classifiers (they run only in training)."""
    keys = ("ch1x1", "ch3x3red", "ch3x3", "ch5x5red", "ch5x5", "pool_proj")
    nodes = [n("image", "Input", shape=[3, size, size]),
             n("conv1", "block:BasicConv2d", ["image"], out=64, k=7, stride=2, padding=3),
             n("maxpool1", "MaxPool2d", ["conv1"], kernel_size=3, stride=2, ceil_mode=True),
             n("conv2", "block:BasicConv2d", ["maxpool1"], out=64),
             n("conv3", "block:BasicConv2d", ["conv2"], out=192, k=3, padding=1),
             n("maxpool2", "MaxPool2d", ["conv3"], kernel_size=3, stride=2, ceil_mode=True)]
    last = "maxpool2"
    for name, sizes in [("inception3a", (64, 96, 128, 16, 32, 32)),
                        ("inception3b", (128, 128, 192, 32, 96, 64)),
                        ("maxpool3", (3, 2)),
                        ("inception4a", (192, 96, 208, 16, 48, 64)),
                        ("inception4b", (160, 112, 224, 24, 64, 64)),
                        ("inception4c", (128, 128, 256, 24, 64, 64)),
                        ("inception4d", (112, 144, 288, 32, 64, 64)),
                        ("inception4e", (256, 160, 320, 32, 128, 128)),
                        ("maxpool4", (2, 2)),
                        ("inception5a", (256, 160, 320, 32, 128, 128)),
                        ("inception5b", (384, 192, 384, 48, 128, 128))]:
        if name.startswith("maxpool"):
            nodes.append(n(name, "MaxPool2d", [last], kernel_size=sizes[0], stride=sizes[1],
                           ceil_mode=True))
        else:
            nodes.append(n(name, "block:Inception", [last], **dict(zip(keys, sizes,
                                                                        strict=True))))
        last = name
    nodes += [n("avgpool", "AdaptiveAvgPool2d", [last], output_size=[1, 1]),
              n("flatten", "Flatten", ["avgpool"]),
              n("dropout", "Dropout", ["flatten"], p=0.2),
              n("fc", "Linear", ["dropout"], out_features=num_classes)]
    return {"version": 1, "name": "GoogLeNet", "nodes": nodes,
            "blocks": {"BasicConv2d": basic_conv2d(), "Inception": inception_block()}}
