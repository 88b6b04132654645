"""Lines a person writes that make one node, token-id inputs and several inputs, imported.

Each model is written here as PyTorch code, imported from its file with
`import_source` (or the command line), and the imported graph must load the
original's `state_dict` strictly and compute its outputs. What the catalogue
cannot express (two values of one LSTM, the cell state, too few input shapes) is
refused with a message naming it.
"""

from __future__ import annotations

import json
import textwrap

import pytest
import torch

from server.cli import main
from server.compiler import compile_graph
from server.importers import ImportFailed, import_source

HEADER = "import torch\nfrom torch import nn\nimport torch.nn.functional as F\n\n"


def imported(tmp_path, body: str, **kwargs):
    """(result, original model) for class Net written in `body`."""
    path = tmp_path / "net.py"
    path.write_text(HEADER + textwrap.dedent(body))
    result = import_source(f"{path}:Net", **kwargs)
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return result, namespace["Net"]


def same_network(result, original_cls, *xs: torch.Tensor) -> None:
    torch.manual_seed(0)
    original = original_cls().eval()
    model = compile_graph(result.graph).eval()
    model.load_state_dict(original.state_dict(), strict=True)
    with torch.no_grad():
        torch.testing.assert_close(model(*xs), original(*xs), atol=1e-6, rtol=1e-5)


def types(result) -> list[tuple[str, dict]]:
    return [(n["type"], n["params"]) for n in result.graph["nodes"]]


RECURRENT = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.{cls}(6, 5, batch_first=True{extra})
        self.fc = nn.Linear({width}, 3)

    def forward(self, x):
{lines}
        return self.fc(x)
"""
READS = {
    "output": ("        x, _ = self.rnn(x)\n        x = x.mean(dim=1)", "output"),
    "last": ("        out, _ = self.rnn(x)\n        x = out[:, -1, :]", "last"),
    "last2": ("        x = self.rnn(x)[0][:, -1]", "last"),
    "hidden_lstm": ("        _, (h_n, _) = self.rnn(x)\n        x = h_n[-1]", "hidden"),
    "hidden_gru": ("        _, h_n = self.rnn(x)\n        x = h_n[-1]", "hidden"),
    "hidden_both": ("        _, (h_n, _) = self.rnn(x)\n"
                    "        x = torch.cat([h_n[-2], h_n[-1]], dim=1)", "hidden"),
}


@pytest.mark.parametrize("cls, read, extra", [
    ("LSTM", "output", ""), ("LSTM", "last", ""), ("GRU", "last2", ""),
    ("LSTM", "hidden_lstm", ", num_layers=2"), ("GRU", "hidden_gru", ""),
    ("RNN", "hidden_gru", ""), ("LSTM", "hidden_both", ", bidirectional=True"),
    ("LSTM", "last", ", bidirectional=True"),
])
def test_a_recurrent_layer_passes_on_the_value_forward_reads(tmp_path, cls, read, extra):
    lines, returns = READS[read]
    width = 10 if "bidirectional" in extra else 5
    result, original = imported(tmp_path, RECURRENT.format(cls=cls, extra=extra, width=width,
                                                           lines=lines), input_shape=[7, 6])
    node = next(n for n in result.graph["nodes"] if n["type"] == cls)
    assert node["params"].get("returns", "output") == returns
    same_network(result, original, torch.randn(3, 7, 6))


@pytest.mark.parametrize("lines, said", [
    ("        out, (h_n, _) = self.rnn(x)\n        x = out[:, -1, :] + h_n[-1]",
     "this forward uses another or several"),
    ("        _, (_, c_n) = self.rnn(x)\n        x = c_n[-1]", "uses another or several"),
    ("        _, (h_n, _) = self.rnn(x)\n        x = h_n[0]", "h_n[-1]"),
    ("        x, _ = self.rnn(x, (x[:, :1, :5].transpose(0, 1),) * 2)", "an initial state"),
])
def test_values_of_a_recurrent_layer_no_node_passes_on_are_refused(tmp_path, lines, said):
    with pytest.raises(ImportFailed, match=r"(?s)call_module LSTM.*" + said.replace("[", r"\[")
                       .replace("]", r"\]")):
        imported(tmp_path, RECURRENT.format(cls="LSTM", extra="", width=5, lines=lines),
                 input_shape=[7, 6])


@pytest.mark.parametrize("line", [
    "x = x + self.pos(torch.arange(x.size(1), device=x.device))",
    "x = self.pos(torch.arange(x.size(1))) + x",
])
def test_a_learned_position_embedding_is_one_node(tmp_path, line):
    body = f"""
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(20, 8)
            self.pos = nn.Embedding(16, 8)
            self.head = nn.Linear(8, 20)

        def forward(self, x):
            x = self.tok(x)
            {line}
            return self.head(x)
    """
    result, original = imported(tmp_path, body, input_shape=[10])
    assert [t for t, _ in types(result)] == ["Input", "Embedding", "PositionalEmbedding",
                                             "Linear"]
    same_network(result, original, torch.randint(0, 20, (3, 10)))


def test_positions_of_another_length_are_not_a_positional_embedding(tmp_path):
    body = """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.pos = nn.Embedding(16, 8)

        def forward(self, x):
            return x + self.pos(torch.arange(x.size(1)) + 1)
    """
    with pytest.raises(ImportFailed, match="call_function torch.arange"):
        imported(tmp_path, body, input_shape=[4, 8])


@pytest.mark.parametrize("heads", [1, 4])
def test_attention_cut_into_heads_is_one_node(tmp_path, heads):
    cut = (lambda v: f"{v}.unflatten(-1, ({heads}, -1)).transpose(1, 2)") if heads > 1 \
        else (lambda v: v)
    join = ".transpose(1, 2).flatten(2)" if heads > 1 else ""
    body = f"""
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(16, 48)
            self.proj = nn.Linear(16, 16)

        def forward(self, x):
            q, k, v = self.qkv(x).chunk(3, dim=2)
            y = F.scaled_dot_product_attention({cut('q')}, {cut('k')}, {cut('v')},
                                               is_causal=True){join}
            return self.proj(y)
    """
    result, original = imported(tmp_path, body, input_shape=[5, 16])
    attention = [p for t, p in types(result) if t == "ScaledDotProductAttention"]
    assert attention == [{"causal": True, "num_heads": heads} if heads > 1
                         else {"causal": True}]
    same_network(result, original, torch.randn(3, 5, 16))


# -- token ids and several inputs -------------------------------------------------------
TOKENS = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(30, 4)
        self.fc = nn.Linear(24, 2)

    def forward(self, x):
        return self.fc(self.emb(x{reshape}).flatten(1))
"""


def test_an_input_an_embedding_reads_is_token_ids(tmp_path):
    result, original = imported(tmp_path, TOKENS.format(reshape=""), input_shape=[6])
    assert result.graph["nodes"][0]["params"] == {"shape": [6], "dtype": "long", "vocab": 30}
    same_network(result, original, torch.randint(0, 30, (3, 6)))


def test_ids_that_pass_a_reshape_first_need_the_dtype_said(tmp_path, capsys):
    body = TOKENS.format(reshape=".flatten(1)")
    with pytest.raises(ImportFailed, match="Embedding reads token ids"):
        imported(tmp_path, body, input_shape=[2, 3])
    out = tmp_path / "back.json"
    assert main(["import", f"{tmp_path / 'net.py'}:Net", "--input-shape", "2,3",
                 "--vocab", "25", "-o", str(out)]) == 0, capsys.readouterr().err
    graph = json.loads(out.read_text())
    assert graph["nodes"][0]["params"] == {"shape": [2, 3], "dtype": "long", "vocab": 25}
    result = import_source(f"{tmp_path / 'net.py'}:Net", input_shape=[2, 3],
                           input_dtype=["long"])
    namespace: dict = {}
    exec(compile((tmp_path / "net.py").read_text(), "net.py", "exec"), namespace)
    same_network(result, namespace["Net"], torch.randint(0, 30, (3, 2, 3)))


@pytest.mark.parametrize("kwargs, said", [
    ({"input_dtype": ["float"], "vocab": [5]}, "needs --input-dtype long"),
    ({"input_dtype": ["int8"]}, "give one of float, long"),
    ({"vocab": [0]}, "positive integer"),
    ({"input_shape": [[6], [6]]}, "2 input shapes given but forward\\(\\) takes 1"),
    ({"input_shape": [[6], [6]], "vocab": [3, 4, 5]}, "--vocab is given 3 times for 2 inputs"),
])
def test_bad_input_options_are_refused_clearly(tmp_path, kwargs, said):
    kwargs = {"input_shape": [6]} | kwargs
    with pytest.raises(ImportFailed, match=said):
        imported(tmp_path, TOKENS.format(reshape=""), **kwargs)


TWO_INPUTS = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.emb = nn.Embedding(12, 3)
        self.fc = nn.Linear(4 * 26 * 26 + 30, 5)

    def forward(self, image, tokens):
        a = torch.flatten(F.relu(self.conv(image)), 1)
        b = torch.flatten(self.emb(tokens), 1)
        return self.fc(torch.cat([a, b], dim=1))
"""


def test_several_forward_arguments_are_several_inputs(tmp_path, capsys):
    path = tmp_path / "net.py"
    path.write_text(HEADER + TWO_INPUTS)
    out = tmp_path / "two.json"
    code = main(["import", f"{path}:Net", "--input-shape", "1,28,28", "--input-shape", "10",
                 "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    graph = json.loads(out.read_text())
    inputs = [n for n in graph["nodes"] if n["type"] == "Input"]
    assert [(n["id"], n["params"]) for n in inputs] == [
        ("image", {"shape": [1, 28, 28]}), ("tokens", {"shape": [10], "dtype": "long",
                                                       "vocab": 12})]
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    original = namespace["Net"]().eval()
    model = compile_graph(graph).eval()
    model.load_state_dict(original.state_dict(), strict=True)
    saved = torch.load(out.with_suffix(".pt"), weights_only=True)  # the import's own Net's
    assert {k: v.shape for k, v in saved.items()} == \
        {k: v.shape for k, v in original.state_dict().items()}
    image, tokens = torch.randn(3, 1, 28, 28), torch.randint(0, 12, (3, 10))
    with torch.no_grad():
        torch.testing.assert_close(model(image, tokens), original(image, tokens))


def test_a_second_argument_without_a_shape_is_refused(tmp_path):
    with pytest.raises(ImportFailed, match="give one --input-shape per argument"):
        imported(tmp_path, TWO_INPUTS, input_shape=[1, 28, 28])
