"""The "fine-tune a pretrained backbone" template, end to end through the API.

Pretrained weights cannot be downloaded here, so the test makes its own: the
template's backbone with a 10-class head (as if trained on another task),
saved with `torch.save` and uploaded as start weights. An image-folder zip (two
classes: red and blue squares) is uploaded as the data. After training, every
frozen layer's parameters equal the uploaded ones exactly; the new head (fresh:
its shape differs from the file's) has learned.
"""

from __future__ import annotations

import copy
import io
import json

import torch

from server.compiler import compile_graph

from .conftest import wait_status
from .test_datasets import make_zip, png


def test_the_backbone_stays_as_uploaded_and_the_head_learns(client, settings):
    template = next(e for e in client.get("/api/examples").json()
                    if e["name"] == "finetune_backbone")["graph"]
    frozen = [n["id"] for n in template["nodes"] if n.get("frozen")]
    assert frozen == ["conv1", "bn1", "conv2", "bn2", "conv3", "bn3"]

    # "Pretrained" elsewhere: the same backbone under a 10-class head.
    elsewhere = copy.deepcopy(template)
    next(n for n in elsewhere["nodes"] if n["id"] == "fc")["params"]["out_features"] = 10
    pretrained = compile_graph(elsewhere, seed=11).state_dict()
    for value in pretrained.values():  # not the template's own seed-0 init
        if value.is_floating_point():
            value.add_(0.01 * torch.randn_like(value))
    buffer = io.BytesIO()
    torch.save(pretrained, buffer)
    r = client.post("/api/weights", files={"file": ("backbone.pt", buffer.getvalue())},
                    data={"graph": json.dumps(template)})
    assert r.status_code == 201, r.text
    weights = r.json()
    assert weights["fit"]["fresh"] == ["fc.bias", "fc.weight"]

    images = {f"shapes/{label}/{i}.png": png((12, 12), color)
              for label, color in (("red", (220, 20, 20)), ("blue", (20, 20, 220)))
              for i in range(12)}
    r = client.post("/api/datasets", files={"file": ("shapes.zip", make_zip(images))})
    assert r.status_code == 201, r.text
    upload = r.json()

    graph = copy.deepcopy(template)
    graph["data"] = {"dataset": upload["dataset"], "params": upload["params"],
                     "batch_size": 8}
    graph["training"] = {"epochs": 3, "seed": 0, "device": "cpu"}
    graph["init"] = {"weights": weights["path"]}
    assert client.post("/api/graphs/validate", json=graph).json()["valid"]
    r = client.post("/api/runs", json=graph)
    assert r.status_code == 201, r.text
    run = wait_status(client, r.json()["id"], {"completed", "failed"}, timeout=300)
    assert run["status"] == "completed", run

    trained = torch.load(settings.runs_dir / run["id"] / "last.pt",
                         weights_only=True)["state_dict"]
    model = compile_graph(graph)
    for node in frozen:
        for name, _ in getattr(model, node).named_parameters():
            key = f"{node}.{name}"
            assert torch.equal(trained[key], pretrained[key]), key
    fresh = compile_graph(graph, seed=0).state_dict()  # the head the run started from
    assert not torch.equal(trained["fc.weight"], fresh["fc.weight"])
