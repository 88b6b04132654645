"""Generative reference networks rebuilt as graphs: DCGAN, the VAE, a convolutional autoencoder.

Each oracle restates, module for module, public code a learner meets (cited on
each class); the graph is built from that source with node ids that give the
original's `state_dict` keys, and the test loads the original's `state_dict`
into the exported class with `strict=True` and compares outputs in eval mode
(`torch.allclose`, atol 1e-5). DCGAN keeps its layers in `self.main =
nn.Sequential(...)`: its nodes are named `main.0`, `main.1`, ... (graph format
node `name`), so the keys are the original's, `main.0.weight`, with no mapping.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from server.validation import validate_graph

from .support import export_class, graph, node

# pytorch/examples, dcgan/main.py: the argparse defaults.
NZ, NGF, NDF, NC = 100, 64, 64, 3


def weights_init(m):
    """pytorch/examples, dcgan/main.py: `weights_init`."""
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


class Generator(nn.Module):
    """pytorch/examples, dcgan/main.py (commit 77f55b9): `Generator` (one device)."""

    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(NZ, NGF * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(NGF * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 8, NGF * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NGF * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 4, NGF * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NGF * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 2, NGF, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NGF),
            nn.ReLU(True),
            nn.ConvTranspose2d(NGF, NC, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    """pytorch/examples, dcgan/main.py (commit 77f55b9): `Discriminator` (one device)."""

    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(NC, NDF, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NDF * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF * 2, NDF * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NDF * 4),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF * 4, NDF * 8, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NDF * 8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF * 8, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, input):
        output = self.main(input)
        return output.view(-1, 1).squeeze(1)


def sequential(shape: list[int], layers: list[tuple[str, dict[str, Any]]],
               tail: list[tuple[str, str, dict[str, Any]]] = (), name: str = "Net") -> dict:
    """Input -> `main.0`, `main.1`, ... (the original's Sequential indices) -> tail nodes."""
    nodes = [node("input", "Input", shape=shape)]
    for i, (type_, params) in enumerate(layers):
        nodes.append({**node(f"main.{i}", type_, [nodes[-1]["id"]], **params),
                      "name": f"main.{i}"})
    for nid, type_, params in tail:
        nodes.append(node(nid, type_, [nodes[-1]["id"]], **params))
    return graph(nodes, name=name)


def _trained_statistics(model: nn.Module) -> None:
    """Weights as the original initialises them, and running statistics away from 0 and 1."""
    model.apply(weights_init)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2)


def _compare(g: dict, state: dict, original: nn.Module, *xs: torch.Tensor,
             seed: int | None = None) -> None:
    report = validate_graph(g)
    assert report.valid, report.all_errors()
    assert report.total_params == sum(p.numel() for p in original.parameters())
    exported = export_class(g)()
    exported.load_state_dict(state, strict=True)
    exported.eval()
    original.eval()
    with torch.no_grad():
        if seed is not None:
            torch.manual_seed(seed)
        expected = original(*xs)
        if seed is not None:
            torch.manual_seed(seed)
        got = exported(*xs)
    expected = expected if isinstance(expected, tuple) else (expected,)
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(expected)
    for e, o in zip(expected, got, strict=True):
        assert o.shape == e.shape
        assert torch.allclose(o, e, atol=1e-5), (o - e).abs().max()


def up(out: int, stride: int, padding: int) -> tuple[str, dict]:
    """A ConvTranspose2d of the generator; in_channels is inferred, as on the canvas."""
    return ("ConvTranspose2d", {"out_channels": out, "kernel_size": 4, "stride": stride,
                                "padding": padding, "bias": False})


def test_dcgan_generator():
    torch.manual_seed(0)
    original = Generator()
    _trained_statistics(original)
    layers = []
    for out, stride, pad in [(NGF * 8, 1, 0), (NGF * 4, 2, 1), (NGF * 2, 2, 1), (NGF, 2, 1)]:
        layers += [up(out, stride, pad), ("BatchNorm2d", {}), ("ReLU", {})]
    layers += [up(NC, 2, 1), ("Tanh", {})]
    g = sequential([NZ, 1, 1], layers, name="Generator")
    report = validate_graph(g)
    assert report.nodes["main.12"].output_shape == [NC, 64, 64]
    noise = torch.randn(2, NZ, 1, 1)
    _compare(g, original.state_dict(), original, noise)


def test_dcgan_discriminator_returns_one_number_per_image():
    torch.manual_seed(1)
    original = Discriminator()
    _trained_statistics(original)

    def down(out: int, stride: int, pad: int) -> tuple[str, dict]:
        return ("Conv2d", {"out_channels": out, "kernel_size": 4, "stride": stride,
                           "padding": pad, "bias": False})

    leaky = ("LeakyReLU", {"negative_slope": 0.2})
    layers = [down(NDF, 2, 1), leaky]
    for width in (NDF * 2, NDF * 4, NDF * 8):
        layers += [down(width, 2, 1), ("BatchNorm2d", {}), leaky]
    layers += [down(1, 1, 0), ("Sigmoid", {})]
    # output.view(-1, 1).squeeze(1): (N, 1, 1, 1) -> (N, 1) -> (N,)
    g = sequential([NC, 64, 64], layers, tail=[("view", "Flatten", {}),
                                               ("squeeze", "Squeeze", {"dim": 1})],
                   name="Discriminator")
    assert validate_graph(g).nodes["squeeze"].output_shape == []
    images = torch.rand(3, NC, 64, 64) * 2 - 1
    _compare(g, original.state_dict(), original, images)


class VAE(nn.Module):
    """pytorch/examples, vae/main.py (commit 77f55b9): `VAE`."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def vae_graph() -> dict:
    """The VAE as drawn: two heads, the reparameterization as tensor nodes, three outputs."""
    return graph([
        node("x", "Input", shape=[1, 28, 28]),
        node("view", "Flatten", ["x"]),
        node("fc1", "Linear", ["view"], out_features=400),
        node("h1", "ReLU", ["fc1"]),
        node("fc21", "Linear", ["h1"], out_features=20),  # mu
        node("fc22", "Linear", ["h1"], out_features=20),  # logvar
        node("half", "Scale", ["fc22"], factor=0.5),
        node("std", "Exp", ["half"]),
        node("eps", "RandnLike", ["std"]),
        node("noise", "Mul", ["eps", "std"]),
        node("z", "Add", ["fc21", "noise"]),
        node("fc3", "Linear", ["z"], out_features=400),
        node("h3", "ReLU", ["fc3"]),
        node("fc4", "Linear", ["h3"], out_features=784),
        node("recon", "Sigmoid", ["fc4"]),
    ], output=["recon", "fc21", "fc22"], name="VAE")


def test_vae_three_outputs_with_the_same_noise():
    torch.manual_seed(2)
    original = VAE()
    images = torch.rand(4, 1, 28, 28)
    # The same seed before each call: randn_like draws the same epsilon in both.
    _compare(vae_graph(), original.state_dict(), original, images, seed=11)
    # And the noise is really drawn: another seed, another reconstruction.
    exported = export_class(vae_graph())()
    exported.load_state_dict(original.state_dict())
    with torch.no_grad():
        torch.manual_seed(11)
        a = exported(images)[0]
        torch.manual_seed(12)
        b = exported(images)[0]
    assert not torch.allclose(a, b)


class ConvAutoencoder(nn.Module):
    """udacity/deep-learning-v2-pytorch, autoencoder/convolutional-autoencoder/
    Convolutional_Autoencoder_Solution.ipynb: `ConvAutoencoder` (MNIST, 28x28).

    pytorch/tutorials has no convolutional autoencoder; this is the widely taught one.
    Its one `self.pool` is applied twice: the graph's second pool shares the first.
    """

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2, 2)
        self.t_conv1 = nn.ConvTranspose2d(4, 16, 2, stride=2)
        self.t_conv2 = nn.ConvTranspose2d(16, 1, 2, stride=2)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = self.pool(x)
        x = F.relu(self.conv2(x))
        x = self.pool(x)  # compressed representation
        x = F.relu(self.t_conv1(x))
        return torch.sigmoid(self.t_conv2(x))


def test_conv_autoencoder():
    torch.manual_seed(3)
    original = ConvAutoencoder()
    g = graph([
        node("x", "Input", shape=[1, 28, 28]),
        node("conv1", "Conv2d", ["x"], out_channels=16, kernel_size=3, padding=1),
        node("relu1", "ReLU", ["conv1"]),
        node("pool", "MaxPool2d", ["relu1"], kernel_size=2, stride=2),
        node("conv2", "Conv2d", ["pool"], out_channels=4, kernel_size=3, padding=1),
        node("relu2", "ReLU", ["conv2"]),
        {**node("pool_again", "MaxPool2d", ["relu2"]), "shares": "pool"},
        node("t_conv1", "ConvTranspose2d", ["pool_again"], out_channels=16, kernel_size=2,
             stride=2),
        node("relu3", "ReLU", ["t_conv1"]),
        node("t_conv2", "ConvTranspose2d", ["relu3"], out_channels=1, kernel_size=2, stride=2),
        node("sigmoid", "Sigmoid", ["t_conv2"]),
    ], name="ConvAutoencoder")
    report = validate_graph(g)
    assert report.nodes["pool_again"].output_shape == [4, 7, 7]
    _compare(g, original.state_dict(), original, torch.rand(3, 1, 28, 28))
