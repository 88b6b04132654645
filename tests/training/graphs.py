"""Small graphs for the trainer tests, as plain dicts in graph format v1.

Tiny on purpose: a handful of samples and one or two epochs are enough to prove
that a loss, an optimizer or the worker plumbing works; the accuracy tests build
their own, bigger, runs.
"""

from __future__ import annotations

from typing import Any


def mlp(dataset: str = "moons", out: int = 2, *, hidden: int = 8, n_samples: int | None = 64,
        loss: str | None = "CrossEntropyLoss", loss_params: dict | None = None,
        optimizer: str = "Adam", optimizer_params: dict | None = None,
        scheduler: str | None = None, scheduler_params: dict | None = None,
        epochs: int = 2, batch_size: int = 16, seed: int | None = 0, last: str | None = None,
        activation: str = "Tanh", **training: Any) -> dict[str, Any]:
    """Input -> Linear -> activation -> Linear(out) [-> last], on a dataset of the registry."""
    nodes = [
        {"id": "x", "type": "Input"},
        {"id": "fc1", "type": "Linear", "params": {"out_features": hidden}, "inputs": ["x"]},
        {"id": "act", "type": activation, "inputs": ["fc1"]},
        {"id": "fc2", "type": "Linear", "params": {"out_features": out}, "inputs": ["act"]},
    ]
    if last is not None:
        params = {"dim": 1} if last in ("Softmax", "LogSoftmax") else {}
        nodes.append({"id": "last", "type": last, "params": params, "inputs": ["fc2"]})
    params = {"n_samples": n_samples} if n_samples is not None else {}
    graph: dict[str, Any] = {
        "version": 1, "name": "TestNet", "nodes": nodes,
        "output": nodes[-1]["id"],
        "optimizer": {"type": optimizer, "params": optimizer_params or {}},
        "data": {"dataset": dataset, "params": params, "batch_size": batch_size,
                 "val_fraction": 0.25},
        "training": {"epochs": epochs, "seed": seed, "device": "cpu", **training},
    }
    if loss is not None:
        graph["loss"] = {"type": loss, "params": loss_params or {}}
    if scheduler is not None:
        graph["scheduler"] = {"type": scheduler, "params": scheduler_params or {}}
    return graph


def seed_cnn(epochs: int = 10, lr: float = 0.001, batch_size: int = 64) -> dict[str, Any]:
    """The seed CNN of the issue: Conv2d / ReLU / MaxPool2d / Flatten / Linear on digits."""
    return {
        "version": 1, "name": "SeedCNN",
        "nodes": [
            {"id": "x", "type": "Input"},
            {"id": "conv1", "type": "Conv2d", "params": {"out_channels": 16, "kernel_size": 3,
                                                         "padding": 1}, "inputs": ["x"]},
            {"id": "relu1", "type": "ReLU", "inputs": ["conv1"]},
            {"id": "pool1", "type": "MaxPool2d", "params": {"kernel_size": 2},
             "inputs": ["relu1"]},
            {"id": "flat", "type": "Flatten", "inputs": ["pool1"]},
            {"id": "fc", "type": "Linear", "params": {"out_features": 10}, "inputs": ["flat"]},
        ],
        "output": "fc",
        "loss": {"type": "CrossEntropyLoss"},
        "optimizer": {"type": "Adam", "params": {"lr": lr}},
        "data": {"dataset": "digits", "batch_size": batch_size, "val_fraction": 0.2},
        "training": {"epochs": epochs, "seed": 0, "device": "cpu"},
    }


def lstm_classifier(dataset: str = "parity", params: dict | None = None, *, vocab: int = 2,
                    classes: int = 2, hidden: int = 16, epochs: int = 8, lr: float = 0.01,
                    batch_size: int = 32, seed: int = 0) -> dict[str, Any]:
    """Token ids -> Embedding -> LSTM (last step) -> Linear(classes): a sequence classifier."""
    return {
        "version": 1, "name": "LSTMClassifier",
        "nodes": [
            {"id": "x", "type": "Input", "params": {"dtype": "long"}},
            {"id": "emb", "type": "Embedding",
             "params": {"num_embeddings": vocab, "embedding_dim": 8}, "inputs": ["x"]},
            {"id": "lstm", "type": "LSTM", "params": {"hidden_size": hidden, "returns": "last"},
             "inputs": ["emb"]},
            {"id": "fc", "type": "Linear", "params": {"out_features": classes},
             "inputs": ["lstm"]},
        ],
        "output": "fc",
        "loss": {"type": "CrossEntropyLoss"},
        "optimizer": {"type": "Adam", "params": {"lr": lr}},
        "data": {"dataset": dataset, "params": params or {}, "batch_size": batch_size,
                 "val_fraction": 0.2},
        "training": {"epochs": epochs, "seed": seed, "device": "cpu"},
    }


def char_lm(vocab: int, *, params: dict | None = None, hidden: int = 48, epochs: int = 4,
            lr: float = 0.01, batch_size: int = 32, dataset: str = "charlm",
            bidirectional: bool = False) -> dict[str, Any]:
    """Embedding -> LSTM (every step) -> Linear(vocab) per token: a character language model."""
    return {
        "version": 1, "name": "CharLM",
        "nodes": [
            {"id": "x", "type": "Input", "params": {"dtype": "long"}},
            {"id": "emb", "type": "Embedding",
             "params": {"num_embeddings": vocab, "embedding_dim": 16}, "inputs": ["x"]},
            {"id": "lstm", "type": "LSTM",
             "params": {"hidden_size": hidden, "bidirectional": bidirectional},
             "inputs": ["emb"]},
            {"id": "head", "type": "Linear", "params": {"out_features": vocab},
             "inputs": ["lstm"]},
        ],
        "output": "head",
        "loss": {"type": "CrossEntropyLoss"},
        "optimizer": {"type": "Adam", "params": {"lr": lr}},
        "data": {"dataset": dataset, "params": params or {}, "batch_size": batch_size,
                 "val_fraction": 0.2},
        "training": {"epochs": epochs, "seed": 0, "device": "cpu"},
    }


def siamese(vocab: int = 6, *, epochs: int = 3, n_samples: int = 400) -> dict[str, Any]:
    """Two Inputs, one shared EmbeddingBag (a Siamese encoder), their squared difference,
    then an MLP: anagram or not, on the two-input `anagrams` dataset."""
    bag = {"num_embeddings": vocab, "embedding_dim": 16, "mode": "sum"}
    return {
        "version": 1, "name": "Siamese",
        "nodes": [
            {"id": "a", "type": "Input"},
            {"id": "b", "type": "Input"},
            {"id": "bag", "type": "EmbeddingBag", "params": bag, "inputs": ["a"]},
            {"id": "bag2", "type": "EmbeddingBag", "shares": "bag", "params": bag,
             "inputs": ["b"]},
            {"id": "diff", "type": "Sub", "inputs": ["bag", "bag2"]},
            {"id": "sq", "type": "Mul", "inputs": ["diff", "diff"]},
            {"id": "fc1", "type": "Linear", "params": {"out_features": 16}, "inputs": ["sq"]},
            {"id": "act", "type": "ReLU", "inputs": ["fc1"]},
            {"id": "fc", "type": "Linear", "params": {"out_features": 2}, "inputs": ["act"]},
        ],
        "output": "fc",
        "loss": {"type": "CrossEntropyLoss"},
        "optimizer": {"type": "Adam", "params": {"lr": 0.01}},
        "data": {"dataset": "anagrams", "params": {"n_samples": n_samples, "vocab": vocab},
                 "batch_size": 32, "val_fraction": 0.2},
        "training": {"epochs": epochs, "seed": 0, "device": "cpu"},
    }
