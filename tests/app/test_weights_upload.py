"""Start weights uploaded through the API: a `.pt` state_dict becomes a graph's
`init.weights`; anything else is refused with a clear 4xx and nothing is kept or run."""

from __future__ import annotations

import io
import json
import os
import pickle

import torch
from fastapi.testclient import TestClient

from server.app import create_app
from server.compiler import compile_graph

from .conftest import BASE, TINY, make_settings, tiny_graph, wait_status


def _saved(value) -> bytes:
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


def _leftovers(settings) -> list[str]:
    folder = settings.uploads_dir
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_state_dict_upload_fits_the_graph_and_trains_from_it(client, settings):
    state = compile_graph(TINY, seed=5).state_dict()
    r = client.post("/api/weights", files={"file": ("tiny.pt", _saved(state))},
                    data={"graph": json.dumps(TINY)})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["tensors"] == 4 and body["file"] == "tiny.pt"
    assert body["fit"]["matched"] == 4 and body["fit"]["fresh"] == []
    assert body["path"].startswith(str(settings.uploads_dir))
    # The graph may now name it: the validator accepts the upload's path ...
    graph = tiny_graph(epochs=1) | {"init": {"weights": body["path"]}}
    graph["nodes"] = [dict(n, frozen=True) if n["id"] == "fc1" else n for n in graph["nodes"]]
    assert client.post("/api/graphs/validate", json=graph).json()["valid"]
    # ... and a run starts from it: the frozen layer ends with the uploaded values.
    r = client.post("/api/runs", json=graph)
    assert r.status_code in (200, 201, 202), r.text
    run = r.json()
    done = wait_status(client, run["id"], {"completed", "failed"}, timeout=300)
    assert done["status"] == "completed", done
    last = torch.load(settings.runs_dir / run["id"] / "last.pt", weights_only=True)
    assert torch.equal(last["state_dict"]["fc1.weight"], state["fc1.weight"])
    assert not torch.equal(last["state_dict"]["fc2.weight"], state["fc2.weight"])


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("touch /tmp/torchcanvas-pwned",))


def test_junk_and_hostile_files_are_refused_and_nothing_is_kept(client, settings):
    cases = {
        "noise.pt": b"\x00not a zip, not a pickle" * 50,
        "code.pt": pickle.dumps({"w": _RunsCode()}),
        "code2.pt": _saved({"w": torch.ones(2)})[:40],  # a torch file cut short
        "list.pt": _saved([torch.ones(2)]),
        "empty.pt": _saved({}),
        "weights.txt": _saved({"w": torch.ones(2)}),
    }
    for name, data in cases.items():
        r = client.post("/api/weights", files={"file": (name, data)})
        assert r.status_code == 422, (name, r.text)
        assert name in r.json()["detail"], (name, r.json())
        assert str(settings.data_dir) not in r.text
    assert not os.path.exists("/tmp/torchcanvas-pwned")
    assert _leftovers(settings) == []
    r = client.post("/api/weights", files={"file": ("x.pt", _saved({"w": torch.ones(2)}))},
                    data={"graph": "{not json"})
    assert r.status_code == 422 and "graph must be JSON" in r.json()["detail"]


def test_a_file_over_the_upload_limit_gets_413(tmp_path):
    settings = make_settings(tmp_path / "data", max_upload_bytes=2000)
    with TestClient(create_app(settings), base_url=BASE) as client:
        r = client.post("/api/weights",
                        files={"file": ("big.pt", _saved({"w": torch.zeros(1000)}))})
        assert r.status_code == 413
        assert _leftovers(settings) == []
