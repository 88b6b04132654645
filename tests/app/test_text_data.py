"""Text and sequences through the web API: a text CSV uploaded, trained on and asked
about; a character language model continuing a prompt; a graph with two outputs."""

from __future__ import annotations

import random

import pytest
import torch

from server.app.checkpoints import load_checkpoint
from server.compiler import compile_graph
from server.datasets.textfile import encode_text, read_text_table
from tests.training.graphs import char_lm
from tests.training.test_sequences import two_heads

from .conftest import wait_status

GOOD = ["good", "great", "lovely", "fine", "excellent"]
BAD = ["bad", "awful", "poor", "boring", "terrible"]


def reviews(n: int = 60) -> bytes:
    rng = random.Random(0)
    rows = ["id,review,sentiment"]
    for i in range(n):
        words = GOOD if i % 2 else BAD
        text = f"the film was {rng.choice(words)}, really {rng.choice(words)}!"
        rows.append(f'{i},"{text}",{"pos" if i % 2 else "neg"}')
    return ("\n".join(rows) + "\n").encode()


def bag_of_words(dataset: str, params: dict, vocab: int) -> dict:
    return {
        "version": 1, "name": "Sentiment",
        "nodes": [
            {"id": "x", "type": "Input"},
            {"id": "bag", "type": "EmbeddingBag",
             "params": {"num_embeddings": vocab, "embedding_dim": 8}, "inputs": ["x"]},
            {"id": "fc", "type": "Linear", "params": {"out_features": 2}, "inputs": ["bag"]},
        ],
        "output": "fc",
        "loss": {"type": "CrossEntropyLoss"},
        "optimizer": {"type": "Adam", "params": {"lr": 0.05}},
        "data": {"dataset": dataset, "params": params, "batch_size": 16, "val_fraction": 0.25},
        "training": {"epochs": 8, "seed": 0, "device": "cpu"},
    }


def trained(client, graph: dict) -> str:
    r = client.post("/api/runs", json=graph)
    assert r.status_code == 201, r.text
    run = wait_status(client, r.json()["id"], {"completed", "failed", "diverged"}, timeout=120)
    assert run["status"] == "completed", run
    return run["id"]


def test_text_csv_upload_train_and_try_it(client, settings):
    r = client.post("/api/datasets", files={"file": ("reviews.csv", reviews())},
                    data={"text": "review", "label": "sentiment", "tokens": "word"})
    assert r.status_code == 201, r.text
    up = r.json()
    assert up["params"]["text"] == "review" and up["params"]["tokens"] == "word"
    info = up["info"]
    assert info["kind"] == "text" and info["input_dtype"] == "long"
    assert info["input_shape"] == [64] and info["class_names"] == ["neg", "pos"]
    # Words, punctuation, padding and unknown: the id table is the file's vocabulary.
    path = up["params"]["path"]
    _, _, vocab, *_ = read_text_table(path, "review", "sentiment")
    assert info["vocab_size"] == len(vocab) and vocab[:2] == ["<pad>", "<unk>"]
    assert {"great", "awful", "!", ","} <= set(vocab)

    preview = client.get(f"/api/datasets/{up['name']}/preview").json()
    assert preview["rows"][0][0].startswith("the film was")

    graph = bag_of_words("csv", up["params"], len(vocab))
    # Two classes through CrossEntropyLoss; short texts, so the bag's mean is not all padding.
    graph["data"]["params"] |= {"task": "classification", "max_length": 12}
    run_id = trained(client, graph)
    ckpt = load_checkpoint(settings.runs_dir / run_id / "best.pt")
    assert ckpt["vocab"] == vocab  # kept with the weights

    answer = client.post(f"/api/runs/{run_id}/predict", json={"input": "Truly GREAT, lovely"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["labels"] == ["neg", "pos"] and body["tokens"] == ["<unk>", "great", ",",
                                                                   "lovely"]
    # The oracle: the checkpoint in a fresh model, fed the ids encode_text gives.
    model = compile_graph(client.get(f"/api/runs/{run_id}").json()["graph"])
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    ids = torch.as_tensor(encode_text("Truly GREAT, lovely", vocab, "word", 12))[None]
    want = torch.softmax(model(ids), dim=1)[0].tolist()
    assert body["probabilities"] == pytest.approx(want, abs=1e-6)
    assert body["probabilities"][1] > 0.5
    bad = client.post(f"/api/runs/{run_id}/predict", json={"input": [1, 2]})
    assert bad.status_code == 422 and "string" in bad.json()["detail"]

    code = client.get(f"/api/runs/{run_id}/code").text
    assert "def read_text_table(" in code and "read_text_table(path, 'review'" in code
    assert "--data" in code and "reviews.csv" in code


def test_text_upload_with_a_missing_column_is_refused(client, settings):
    r = client.post("/api/datasets", files={"file": ("r.csv", reviews(10))},
                    data={"text": "comment"})
    assert r.status_code == 422 and "no column 'comment'" in r.json()["detail"]
    assert list(settings.uploads_dir.iterdir()) == []


def test_language_model_continues_a_prompt(client):
    vocab = client.get("/api/datasets").json()["datasets"]
    zen = next(d for d in vocab if d["name"] == "charlm")["vocab_size"]
    run_id = trained(client, char_lm(zen, params={"n_samples": 300, "length": 16}, epochs=2,
                                     hidden=32))
    ask = {"input": "Beautiful is ", "length": 40, "temperature": 0.5, "seed": 3}
    first = client.post(f"/api/runs/{run_id}/predict", json=ask)
    assert first.status_code == 200, first.text
    text = first.json()["text"]
    assert len(text) == 40 and first.json()["prompt"] == "Beautiful is "
    assert client.post(f"/api/runs/{run_id}/predict", json=ask).json()["text"] == text
    for bad, says in (({"input": "Ω"}, "does not know"), ({"input": "a", "length": 501}, "500"),
                      ({"input": "a", "temperature": 0}, "0.05")):
        r = client.post(f"/api/runs/{run_id}/predict", json=bad)
        assert r.status_code == 422 and says in str(r.json()["detail"]), r.text


def test_two_output_graph_trains_through_the_api(client):
    g = two_heads(1)
    g["data"]["params"] = {"n_samples": 200}
    run_id = trained(client, g)
    events = client.get(f"/api/runs/{run_id}/events").json()
    epochs = [e for e in events if e["type"] == "epoch"]
    assert epochs and epochs[-1]["val_accuracy"] > 0.7
    answer = client.post(f"/api/runs/{run_id}/predict", json={"input": [0.1, 0.2]}).json()
    assert len(answer["probabilities"]) == 2  # the head the loss reads, not the 3-wide one


def test_two_input_graph_trains_and_try_it_says_why_not(client):
    from tests.training.graphs import siamese

    run_id = trained(client, siamese(n_samples=200, epochs=2))
    r = client.post(f"/api/runs/{run_id}/predict", json={"input": "abc"})
    assert r.status_code == 422 and "one Input; this one has 2" in r.json()["detail"]
