"""The generated sequence tasks and the character corpus: shapes, dtypes, labels checked
by hand, the same data for the same seed, and no network access while making them."""

from __future__ import annotations

import socket
from collections import Counter

import numpy as np
import pytest
import torch

from server.datasets import describe_dataset, load_dataset, preview_dataset
from server.datasets.sequences import corpus_text

SETS = {  # name: (params, x dtype, x shape, y shape)
    "sine_forecast": ({"n_samples": 50, "length": 10, "horizon": 2}, torch.float32, (10, 1), (2,)),
    "parity": ({"n_samples": 50, "length": 6}, torch.int64, (6,), ()),
    "brackets": ({"n_samples": 50, "length": 8}, torch.int64, (8,), ()),
    "reverse": ({"n_samples": 50, "length": 5, "vocab": 4}, torch.int64, (5,), (5,)),
    "charlm": ({"n_samples": 50, "length": 12}, torch.int64, (12,), (12,)),
    "charnext": ({"n_samples": 50, "length": 4}, torch.int64, (4,), ()),
    "anagrams": ({"n_samples": 50, "length": 5}, torch.int64, (2, 5), ()),  # two inputs
}


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a dataset tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("name", SETS)
def test_shapes_dtypes_and_info(no_network, name):
    params, dtype, x_shape, y_shape = SETS[name]
    data = load_dataset(name, params, val_fraction=0.2, seed=1)
    info = data.info
    assert data.x_train.dtype == dtype and tuple(data.x_train.shape[1:]) == x_shape
    assert tuple(data.y_train.shape[1:]) == y_shape
    assert len(data.x_train) == 40 and len(data.x_val) == 10
    # A sample of several inputs holds them stacked in dim 0, each shaped input_shape.
    per_input = x_shape[1:] if info.input_count > 1 else x_shape
    assert tuple(info.input_shape) == per_input and (info.input_count > 1) == (name == "anagrams")
    assert info.input_dtype == ("long" if dtype == torch.int64 else "float")
    if dtype == torch.int64:
        assert int(data.x_train.max()) < info.vocab_size
        assert data.y_train.dtype == torch.int64
        assert int(data.y_train.max()) < info.num_classes
    assert describe_dataset(name, params) == info
    assert info.description.endswith(".")


@pytest.mark.parametrize("name", SETS)
def test_same_seed_same_data_other_seed_other_data(name):
    params = SETS[name][0]
    a = load_dataset(name, params, val_fraction=0.2, seed=3)
    b = load_dataset(name, params, val_fraction=0.2, seed=3)
    c = load_dataset(name, {**params, "seed": 7}, val_fraction=0.2, seed=3)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_val, b.y_val)
    assert not torch.equal(a.x_train, c.x_train)


def test_labels_are_what_they_say():
    parity = load_dataset("parity", {"n_samples": 200}, val_fraction=0.0, seed=0)
    assert torch.equal(parity.y_train, parity.x_train.sum(dim=1) % 2)
    assert 0.35 < parity.y_train.float().mean() < 0.65

    br = load_dataset("brackets", {"n_samples": 200, "length": 10}, val_fraction=0.0, seed=0)
    for ids, label in zip(br.x_train.tolist(), br.y_train.tolist(), strict=True):
        depth, ok = 0, True
        for i in ids:  # 0 is '(' and 1 is ')'
            depth += 1 if i == 0 else -1
            ok = ok and depth >= 0
        assert label == int(ok and depth == 0)
    assert br.y_train.float().mean() == 0.5

    rev = load_dataset("reverse", {"n_samples": 30}, val_fraction=0.0, seed=0)
    assert torch.equal(rev.y_train, rev.x_train.flip(1))
    copy = load_dataset("reverse", {"n_samples": 30, "mode": "copy"}, val_fraction=0.0, seed=0)
    assert torch.equal(copy.y_train, copy.x_train)

    lm = load_dataset("charlm", {"n_samples": 30}, val_fraction=0.0, seed=0)
    assert torch.equal(lm.y_train[:, :-1], lm.x_train[:, 1:])  # the next character
    vocab = lm.info.class_names
    text = corpus_text("zen")
    window = "".join(vocab[i] for i in lm.x_train[0].tolist())
    assert window in text and lm.vocab == vocab


def test_anagram_pairs_are_shuffles_or_one_letter_off():
    data = load_dataset("anagrams", {"n_samples": 60, "length": 7}, val_fraction=0.0, seed=0)
    for (a, b), label in zip(data.x_train.tolist(), data.y_train.tolist(), strict=True):
        missing = sum((Counter(a) - Counter(b)).values())
        assert missing == (0 if label == 1 else 1)
    assert "  |  " in preview_dataset("anagrams", {}, n=1)["rows"][0][0]


def test_sine_targets_continue_the_wave():
    data = load_dataset("sine_forecast", {"n_samples": 20, "noise": 0.0, "horizon": 1},
                        val_fraction=0.0, seed=0)
    x = data.x_train[:, :, 0].numpy().astype(np.float64)
    # A pure sine obeys s[t+1] = 2 cos(w) s[t] - s[t-1]; w is recovered from three values.
    cos_w = (x[:, 2] + x[:, 0]) / (2 * x[:, 1])
    nxt = 2 * cos_w * x[:, -1] - x[:, -2]
    assert np.allclose(nxt, data.y_train[:, 0].numpy(), atol=1e-3)


def test_corpora_ship_with_python():
    assert corpus_text("zen").startswith("The Zen of Python, by Tim Peters")
    docs = corpus_text("stdlib_docs")
    assert len(docs) > 5000 and docs.isascii()
    assert describe_dataset("charlm", {"corpus": "stdlib_docs"}).vocab_size > 60


def test_previews_show_text():
    rows = preview_dataset("brackets", {"length": 4}, n=3)["rows"]
    assert len(rows) == 3 and set(rows[0][0]) <= set("()") and rows[0][1] in (
        "balanced", "unbalanced")
    lm = preview_dataset("charlm", {"length": 8}, n=2)
    assert lm["columns"] == ["input", "target"] and lm["rows"][0][0][1:] == lm["rows"][0][1][:-1]


def test_bad_params_are_refused_by_name():
    from server.datasets import DatasetError

    with pytest.raises(DatasetError, match="at most 256") as exc:
        describe_dataset("charlm", {"length": 300})
    assert exc.value.param == "length"
    with pytest.raises(DatasetError) as exc:
        describe_dataset("reverse", {"vocab": 27})
    assert exc.value.param == "vocab"


def test_charnext_targets_are_the_character_after_the_window():
    from server.datasets.sequences import char_context, char_windows

    x, y = char_context(20, 5, "zen", 3)
    wx, wy = char_windows(20, 5, "zen", 3)
    assert (x == wx).all() and (y == wy[:, -1]).all()  # the last position's next character
