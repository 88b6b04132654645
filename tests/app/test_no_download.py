"""A request never downloads a dataset (issue 13 case 18): missing files are a clear 422."""

from __future__ import annotations

import pytest

from .conftest import tiny_graph


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "cifar10"])
def test_preview_of_a_missing_torchvision_set_says_how_to_get_it(client, tmp_path, monkeypatch,
                                                                  name):
    empty = tmp_path / "no-data"
    empty.mkdir()
    monkeypatch.setenv("TORCHCANVAS_DATA", str(empty))
    r = client.get(f"/api/datasets/{name}/preview")
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert f"torchcanvas download {name}" in detail and "never downloads" in detail
    assert str(tmp_path) not in r.text
    assert list(empty.iterdir()) == []  # torchvision never even made its folders


def test_training_on_a_missing_set_fails_with_the_same_message(client, tmp_path, monkeypatch):
    empty = tmp_path / "no-data"
    empty.mkdir()
    monkeypatch.setenv("TORCHCANVAS_DATA", str(empty))
    graph = tiny_graph()
    graph["nodes"][0]["params"] = {"shape": [1, 28, 28]}
    graph["nodes"].insert(1, {"id": "flat", "type": "Flatten", "inputs": ["x"]})
    graph["nodes"][2]["inputs"] = ["flat"]
    graph["nodes"][-1]["params"]["out_features"] = 10
    graph["data"] = {"dataset": "mnist", "batch_size": 32}
    r = client.post("/api/runs", json=graph)
    # Refused before any worker starts, with how to get the files; nothing downloaded.
    assert r.status_code == 422, r.text
    assert "torchcanvas download mnist" in r.json()["detail"]
    assert list(empty.iterdir()) == []
