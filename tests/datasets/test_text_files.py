"""A CSV with a text column: tokens, vocabulary, ids, labels, errors, and the exported
script's `load_data` giving the same tensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from server.datasets import DatasetError, describe_dataset, load_dataset, script_source
from server.datasets.textfile import encode_text, read_text_table, tokenize

TABLE = ('text,label\n"Good, good film!",yes\n"bad film",no\n"good",yes\n'
         '"A bad, BAD end",no\n"don\'t go",no\n')


def test_tokens_are_words_and_punctuation_or_characters():
    assert tokenize("Don't stop, it's GOOD!", "word") == ["don't", "stop", ",", "it's", "good",
                                                          "!"]
    assert tokenize("Hi!", "char") == ["H", "i", "!"]


def test_vocabulary_ids_and_labels(write_csv):
    path = write_csv(TABLE)
    x, y, vocab, classes, task, label = read_text_table(path, "text", max_length=5)
    # <pad>, <unk>, then by falling count (bad 3, good 3, film 2, ","/"!" ...), ties a-z.
    assert vocab[:6] == ["<pad>", "<unk>", "bad", "good", ",", "film"]
    assert classes == ["no", "yes"] and task == "binary" and label == "label"
    assert y.tolist() == [1, 0, 1, 0, 0]
    assert x.dtype == np.int64 and x.shape == (5, 5)
    assert x[1].tolist() == [vocab.index("bad"), vocab.index("film"), 0, 0, 0]  # padded
    assert x[3].tolist() == [vocab.index(t) for t in ["a", "bad", ",", "bad", "end"]]
    assert encode_text("good zebra", vocab, "word", 3).tolist() == [vocab.index("good"), 1, 0]
    small = read_text_table(path, "text", max_vocab=4)[2]
    assert small == ["<pad>", "<unk>", "bad", "good"]


def test_describe_and_load(write_csv):
    params = {"path": write_csv(TABLE), "text": "text", "tokens": "char", "max_length": 8,
              "task": "classification"}
    info = describe_dataset("csv", params)
    assert (info.kind, info.input_dtype, info.input_shape, info.task) == \
        ("text", "long", (8,), "classification")
    assert info.token_names[:2] == ("<pad>", "<unk>") and info.vocab_size == len(
        info.token_names)
    data = load_dataset("csv", params, val_fraction=0.4, seed=0)
    assert data.x_train.dtype == torch.int64 and data.x_train.shape == (3, 8)
    assert data.vocab == list(info.token_names)


@pytest.mark.parametrize(("params", "param", "says"), [
    ({"text": "words"}, "text", "no column 'words'"),
    ({"text": "text", "label": "text"}, "label", "no label column 'text'"),
    ({"text": "text", "task": "regression"}, "task", "for classification"),
])
def test_bad_text_params_name_the_param(write_csv, params, param, says):
    with pytest.raises(DatasetError, match=says) as exc:
        describe_dataset("csv", {"path": write_csv(TABLE), **params})
    assert exc.value.param == param


def test_script_reproduces_text_sets(run_script, write_csv):
    params = {"path": write_csv(TABLE), "text": "text", "max_length": 6}
    source = script_source("csv", params)
    train_set, val_set = run_script(source)["load_data"](0.4, 2)
    data = load_dataset("csv", params, val_fraction=0.4, seed=2)
    for ours, theirs in ((data.x_train, train_set.tensors[0]), (data.y_val, val_set.tensors[1])):
        assert ours.dtype == theirs.dtype and torch.equal(ours, theirs)
