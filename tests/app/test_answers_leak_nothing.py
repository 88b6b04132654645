"""What answers carry (issue 13 case 19): no server paths, a strict CSP on the page."""

from __future__ import annotations

import base64
import hashlib
import json
import re


def test_the_page_sends_a_strict_content_security_policy(client):
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    script = directives["script-src"].split()
    assert script[0] == "'self'" and "'unsafe-inline'" not in script
    assert "'unsafe-eval'" not in csp and directives["object-src"] == "'none'"
    # Every inline script of the page is allowed by its hash, and nothing else is.
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", r.text, re.S)
    wanted = {f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
              for s in inline}
    assert inline and set(script[1:]) == wanted
    assert "content-security-policy" not in client.get("/healthz").headers


def test_no_answer_names_a_server_path(client, settings):
    root = str(settings.data_dir.parent)
    bad_path = {"version": 1, "nodes": [{"id": "x", "type": "Input"}], "output": "x",
                "data": {"dataset": "csv", "params": {"path": "/etc/passwd"}}}
    answers = [
        client.post("/api/graphs/validate", json=bad_path),
        client.post("/api/runs", json=bad_path),
        client.get("/api/datasets/csv/preview", params={"params": '{"path": "/etc/passwd"}'}),
        client.get("/api/runs/0123456789abcdef/checkpoint"),
        client.post("/api/datasets", files={"file": ("x.csv", b"a,b\n1,\n")}),
    ]
    for r in answers:
        assert r.status_code >= 400 or r.json().get("valid") is False, r.text
        assert root not in r.text and "/work/" not in r.text and "/tmp/" not in r.text, r.text


# -- case 19's residue: paths from PyTorch, PIL, the CSV reader and stored run errors ------

def test_scrub_cuts_every_absolute_path_and_nothing_else():
    from server.app.scrub import scrub

    cases = {
        "no such file: /srv/data/uploads/1f3a/x.csv": "no such file: …/x.csv",
        "/srv/data/uploads/1f3a/x.csv has a header row": "…/x.csv has a header row",
        "cannot identify image file '/tmp/d/uploads/ab/pets/cat/1.png'":
            "cannot identify image file '…/1.png'",
        "Exception raised from allocate at /pytorch/c10/core/impl/alloc_cpu.cpp:72 (most":
            "Exception raised from allocate at …/alloc_cpu.cpp:72 (most",
        'File "/usr/lib/python3.11/zipfile.py", line 3': 'File "…/zipfile.py", line 3',
        "[Errno 28] No space left on device: '/data/runs/ab/last.pt'":
            "[Errno 28] No space left on device: '…/last.pt'",
        "path=/home/me/x.csv,": "path=…/x.csv,",
    }
    for text, want in cases.items():
        assert scrub(text) == want
    for same in ("see http://127.0.0.1:8000/api/runs/x", "1/2 of the batch", "input/output",
                 "x[:, -1] / 2", "GET /api/runs/{id}/checkpoint", "shape (8, 2)", "/single",
                 "reconnect with ?after=12"):
        assert scrub(same) == same


def _leaks(text: str, settings) -> bool:
    return str(settings.data_dir) in text or "/uploads/" in text or "/tmp/" in text


def test_a_damaged_upload_is_named_by_file_only(client, settings):
    r = client.post("/api/datasets", files={"file": ("x.csv", b"a,b,label\n1,2,0\n3,4,1\n")})
    assert r.status_code == 201, r.text
    params = r.json()["params"]
    graph = {"version": 1, "output": "fc",
             "nodes": [{"id": "x", "type": "Input", "params": {"shape": [2]}},
                       {"id": "fc", "type": "Linear", "params": {"out_features": 2},
                        "inputs": ["x"]}],
             "data": {"dataset": "csv", "params": params, "batch_size": 2},
             "training": {"epochs": 1, "device": "cpu"}}
    path = settings.uploads_dir / r.json()["id"] / "x.csv"
    for damage in (lambda: path.write_text("a,b,label\n"), path.unlink):
        damage()
        answers = [client.post("/api/graphs/validate", json=graph),
                   client.post("/api/runs", json=graph),
                   client.get("/api/datasets/csv/preview", params={"params": json.dumps(params)}),
                   client.post("/api/graphs/inspect", json={"graph": graph, "node": "fc"})]
        for answer in answers:
            assert "x.csv" in answer.text, answer.text  # the user still learns which file
            assert not _leaks(answer.text, settings), answer.text


def test_a_stored_run_error_names_no_path(client, settings):
    """PIL names the whole path of an image it cannot read; the run's stored error,
    its events and the run answers must not."""
    from .conftest import wait_status
    from .test_datasets import GOOD_ZIP, make_zip

    r = client.post("/api/datasets", files={"file": ("pets.zip", make_zip(
        {f"pets/{k}": v for k, v in GOOD_ZIP.items()}), "application/zip")})
    assert r.status_code == 201, r.text
    up = r.json()
    for image in (settings.uploads_dir / up["id"] / "pets").glob("*/*.png"):
        image.write_bytes(b"not an image any more")
    graph = {"version": 1, "output": "fc",
             "nodes": [{"id": "x", "type": "Input", "params": {"shape": [3, 32, 32]}},
                       {"id": "flat", "type": "Flatten", "inputs": ["x"]},
                       {"id": "fc", "type": "Linear", "params": {"out_features": 2},
                        "inputs": ["flat"]}],
             "data": {"dataset": up["dataset"], "params": up["params"], "batch_size": 2},
             "training": {"epochs": 1, "device": "cpu"}}
    r = client.post("/api/runs", json=graph)
    assert r.status_code == 201, r.text  # the folder is there: the damage shows in training
    run_id = r.json()["id"]
    run = wait_status(client, run_id, {"failed"})
    assert "cannot identify image file" in run["error"] and "1.png" in run["error"], run
    listed = [r["error"] for r in client.get("/api/runs").json() if r["id"] == run_id]
    for text in (client.app.state.ctx.store.get_run(run_id)["error"],
                 client.get(f"/api/runs/{run_id}/events").text, run["error"], *listed):
        assert not _leaks(text, settings), text
