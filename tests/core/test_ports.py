"""Several inputs, several outputs, port references and dtypes, against hand-written PyTorch.

The VAE-like encoder follows pytorch/examples `vae/main.py` (`VAE.encode`: one
hidden layer, then two heads for mu and logvar); here the two heads are one
Linear whose output is chunked, as many VAEs write it.
"""

from __future__ import annotations

import torch
from torch import nn

from server.compiler import compile_graph
from server.export import export_code
from server.validation import validate_graph

from .support import exported_class, graph, node, randn


def vae_encoder() -> dict:
    return graph([
        node("x", "Input", shape=[20]),
        node("fc1", "Linear", ["x"], out_features=16),
        node("act", "ReLU", ["fc1"]),
        node("heads", "Linear", ["act"], out_features=8),
        node("halves", "Chunk", ["heads"], chunks=2),
        node("sigma", "Sigmoid", [{"node": "halves", "port": 1}]),
    ], output=[{"node": "halves", "port": 0}, "sigma"], name="encoder")


class HandWrittenEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(20, 16)
        self.act = nn.ReLU()
        self.heads = nn.Linear(16, 8)
        self.sigma = nn.Sigmoid()

    def forward(self, x):
        mu, logvar = self.heads(self.act(self.fc1(x))).chunk(2, dim=1)
        return mu, self.sigma(logvar)


def test_multi_output_graph_matches_hand_written_pytorch():
    g = vae_encoder()
    report = validate_graph(g)
    assert report.valid, report.all_errors()
    assert report.nodes["halves"].output_shapes == [[4], [4]]
    compiled = compile_graph(g, seed=0).eval()
    source = export_code(g, "module")
    # Unpacked right where it is called, and the tuple returned.
    assert "halves_0, halves_1 = x.chunk(2, dim=1)" in source
    assert "return halves_0, sigma" in source
    exported = exported_class(source)().eval()
    oracle = HandWrittenEncoder().eval()
    oracle.load_state_dict(compiled.state_dict(), strict=True)
    exported.load_state_dict(compiled.state_dict(), strict=True)
    x = randn(3, [20])
    with torch.no_grad():
        want = oracle(x)
        for got in (compiled(x), exported(x)):
            assert isinstance(got, tuple) and len(got) == 2
            for a, b in zip(got, want, strict=True):
                assert torch.allclose(a, b, atol=1e-6)


def test_two_inputs_become_forward_arguments_in_the_declared_order():
    g = graph([
        node("left", "Input", shape=[6]),
        node("right", "Input", shape=[4]),
        node("fl", "Linear", ["left"], out_features=3),
        node("fr", "Linear", ["right"], out_features=3),
        node("sum", "Add", ["fl", "fr"]),
    ], inputs=["right", "left"])
    report = validate_graph(g)
    assert report.valid, report.all_errors()
    source = export_code(g, "module")
    assert "def forward(self, right, left):" in source
    compiled = compile_graph(g, seed=0).eval()
    exported = exported_class(source)().eval()
    exported.load_state_dict(compiled.state_dict(), strict=True)
    a, b = randn(2, [4], seed=1), randn(2, [6], seed=2)
    sd = compiled.state_dict()
    want = b @ sd["fl.weight"].T + sd["fl.bias"] + a @ sd["fr.weight"].T + sd["fr.bias"]
    with torch.no_grad():
        assert torch.allclose(compiled(a, b), want, atol=1e-6)
        assert torch.allclose(exported(a, b), want, atol=1e-6)


def test_inputs_list_must_name_every_input():
    g = graph([node("a", "Input", shape=[2]), node("b", "Input", shape=[2]),
               node("s", "Add", ["a", "b"])], inputs=["a"])
    errors = validate_graph(g).all_errors()
    assert "must list every Input node once" in errors[0].message


def test_a_port_that_does_not_exist_is_named():
    g = graph([node("x", "Input", shape=[4]), node("c", "Chunk", ["x"], chunks=2),
               node("r", "ReLU", [{"node": "c", "port": 2}])])
    errors = validate_graph(g).all_errors()
    assert [(e.node, e.param) for e in errors] == [("r", "inputs")]
    assert "'c' port 2: that node has 2 output ports" in errors[0].message


def test_object_references_and_ids_with_colons_are_not_parsed():
    g = graph([node("x:in", "Input", shape=[4]), node("c:1", "Split", ["x:in"], sections=[1, 3]),
               node("r", "ReLU", [{"node": "c:1", "port": 1}])], output="r")
    report = validate_graph(g)
    assert report.valid, report.all_errors()
    assert report.nodes["r"].output_shape == [3]


def test_long_ids_must_not_reach_float_layers():
    g = graph([node("ids", "Input", shape=[5], dtype="long", vocab=100),
               node("flat", "Flatten", ["ids"]), node("fc", "Linear", ["flat"], out_features=2)])
    errors = validate_graph(g).all_errors()
    assert [(e.node, e.param) for e in errors] == [("fc", "inputs")]
    assert "token ids" in errors[0].message and "Embedding" in errors[0].message


def test_loss_output_index_is_checked():
    g = vae_encoder() | {"loss": {"type": "MSELoss", "output": 2}}
    errors = validate_graph(g).all_errors()
    assert [e.component for e in errors] == ["loss"]
    assert "reads output 2, but the graph has 2" in errors[0].message
    assert validate_graph(vae_encoder() | {"loss": {"type": "MSELoss", "output": 1}}).valid


def test_compiled_model_counts_its_arguments():
    compiled = compile_graph(vae_encoder(), seed=0)
    try:
        compiled(randn(1, [20]), randn(1, [20]))
    except TypeError as exc:
        assert "takes 1 input(s), got 2" in str(exc)
    else:
        raise AssertionError("two arguments for one Input must be refused")


def siamese() -> dict:
    return graph([
        node("a", "Input", shape=[8]),
        node("b", "Input", shape=[8]),
        node("enc", "Linear", ["a"], out_features=4),
        {"id": "enc_b", "type": "Linear", "inputs": ["b"], "shares": "enc"},
        node("act_a", "Tanh", ["enc"]),
        node("act_b", "Tanh", ["enc_b"]),
    ], output=["act_a", "act_b"], name="twin")


class HandWrittenTwin(nn.Module):
    """A Siamese network's twin encoder: one module applied to both inputs."""

    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(8, 4)

    def forward(self, a, b):
        return torch.tanh(self.enc(a)), torch.tanh(self.enc(b))


def test_shared_layer_is_one_module_called_twice():
    g = siamese()
    report = validate_graph(g)
    assert report.valid, report.all_errors()
    assert report.total_params == 8 * 4 + 4 and report.nodes["enc_b"].params == 0
    compiled = compile_graph(g, seed=0).eval()
    assert list(compiled.state_dict()) == ["enc.weight", "enc.bias"]
    source = export_code(g, "module")
    assert source.count("nn.Linear(") == 1 and source.count("self.enc(") == 2
    exported = exported_class(source)().eval()
    oracle = HandWrittenTwin().eval()
    for m in (exported, compiled):
        m.load_state_dict(oracle.state_dict(), strict=True)
    a, b = randn(3, [8], seed=1), randn(3, [8], seed=2)
    with torch.no_grad():
        want = oracle(a, b)
        for got in (compiled(a, b), exported(a, b)):
            for x, y in zip(got, want, strict=True):
                assert torch.allclose(x, y, atol=1e-6)


def test_sharing_needs_the_same_type_and_sizes():
    g = siamese()
    g["nodes"][1]["params"] = {"shape": [6]}  # b is narrower: in_features 6, not 8
    errors = validate_graph(g).all_errors()
    assert [(e.node, e.param) for e in errors] == [("enc_b", "shares")]
    assert "in_features=6 here, 8 there" in errors[0].message
    g = siamese()
    g["nodes"][5] = {"id": "act_b", "type": "Tanh", "inputs": ["enc_b"], "shares": "enc"}
    errors = validate_graph(g).all_errors()
    assert "only a layer of the same type with weights" in errors[0].message


def vit_tokens() -> dict:
    # torchvision/models/vision_transformer.py (VisionTransformer and Encoder): a zero
    # class token concatenated before the patch tokens, then a learned positional
    # embedding added; both are nn.Parameter attributes used directly in forward.
    return graph([
        node("x", "Input", shape=[4, 8]),
        node("class_token", "Parameter", shape=[1, 8]),
        node("tokens", "Concat", ["class_token", "x"], dim=1),
        node("pos_embedding", "Parameter", shape=[5, 8], init="randn"),
        node("sum", "Add", ["tokens", "pos_embedding"]),
    ], output="sum", name="vit_tokens")


class HandWrittenTokens(nn.Module):
    def __init__(self):
        super().__init__()
        self.class_token = nn.Parameter(torch.zeros(1, 1, 8))
        self.pos_embedding = nn.Parameter(torch.empty(1, 5, 8).normal_(std=0.02))

    def forward(self, x):
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        return x + self.pos_embedding


def test_parameter_nodes_match_vit_class_token_and_positional_embedding():
    g = vit_tokens()
    report = validate_graph(g)
    assert report.valid, report.all_errors()
    assert report.total_params == 8 + 40
    compiled = compile_graph(g, seed=0).eval()
    assert {k: tuple(v.shape) for k, v in compiled.state_dict().items()} == \
        {"class_token": (1, 1, 8), "pos_embedding": (1, 5, 8)}
    assert torch.equal(compiled.class_token, torch.zeros(1, 1, 8))
    source = export_code(g, "module")
    assert "self.class_token = nn.Parameter(torch.zeros(1, 1, 8))" in source
    exported = exported_class(source)().eval()
    oracle = HandWrittenTokens().eval()
    for m in (exported, compiled):
        m.load_state_dict(oracle.state_dict(), strict=True)
    x = randn(3, [4, 8])
    with torch.no_grad():
        want = oracle(x)
        assert torch.allclose(compiled(x), want, atol=1e-6)
        assert torch.allclose(exported(x), want, atol=1e-6)
    # Same seed, same initial values in the exported class as in the compiled module.
    torch.manual_seed(0)
    fresh = exported_class(source)()
    assert torch.equal(fresh.pos_embedding, compile_graph(g, seed=0).pos_embedding)
