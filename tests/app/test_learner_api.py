"""Uploads speak of the user's file, never of the server's folders (issue 12, items 11, 14),
and runs have names people give (item 8).

A file that is not named .csv (a .txt) is refused as such; a refusal quotes the
uploaded file's name, not where the server stored it; the exported script of a
graph trained on an upload names that file and takes its location from `--data`.
"""

from __future__ import annotations

import subprocess
import sys
import time

from .conftest import tiny_graph
from .test_datasets import GOOD_CSV, assert_nothing_left, upload


def test_a_txt_is_not_taken_for_a_csv(client, settings):
    r = upload(client, GOOD_CSV.encode(), "notes.txt", label="label")
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert "notes.txt" in detail and ".csv" in detail
    assert str(settings.data_dir) not in r.text
    assert_nothing_left(settings)


def test_a_refused_csv_names_the_users_file_not_a_server_path(client, settings):
    r = upload(client, b"a,b,label\n", "scores.csv")  # the reader quotes the file
    assert r.status_code == 422
    assert "scores.csv" in r.json()["detail"], r.text
    assert str(settings.data_dir) not in r.text and "uploads" not in r.text


def test_the_exported_script_takes_the_data_path_from_its_command_line(client, settings, tmp_path):
    up = upload(client, GOOD_CSV.encode(), "scores.csv", label="label").json()
    graph = tiny_graph()
    graph["data"] = {"dataset": up["dataset"], "params": up["params"], "val_fraction": 0.25}
    graph["nodes"][0]["params"]["shape"] = [2]
    graph["loss"] = {"type": "CrossEntropyLoss", "params": {}}
    r = client.post("/api/graphs/export?format=script", json=graph)
    assert r.status_code == 200, r.text
    script = r.text
    assert 'parser.add_argument("--data", default=\'scores.csv\'' in script
    assert str(settings.data_dir) not in script
    # The user's copy of the file, somewhere else entirely, trains through --data.
    mine = tmp_path / "elsewhere" / "scores.csv"
    mine.parent.mkdir()
    mine.write_text(GOOD_CSV)
    (tmp_path / "train.py").write_text(script)
    done = subprocess.run([sys.executable, "train.py", "--data", str(mine), "--dry-run",
                           "--save-model", ""], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr


def test_runs_are_named_by_project_dataset_and_number_and_can_be_renamed(client):
    from .conftest import tiny_graph as graph_of

    ids = []
    for _ in range(2):
        r = client.post("/api/runs?project=mine", json=graph_of(epochs=1))
        while r.status_code == 429:  # one run at a time: wait for the slot
            time.sleep(0.1)
            r = client.post("/api/runs?project=mine", json=graph_of(epochs=1))
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    titles = {r["id"]: r["title"] for r in client.get("/api/runs").json()}
    dataset = graph_of()["data"]["dataset"]
    assert titles == {ids[0]: f"mine · {dataset} #1", ids[1]: f"mine · {dataset} #2"}
    r = client.patch(f"/api/runs/{ids[0]}", json={"label": "  wide net "})
    assert r.status_code == 200 and r.json()["title"] == "wide net"
    assert client.get(f"/api/runs/{ids[0]}").json()["label"] == "wide net"
    assert client.patch(f"/api/runs/{ids[0]}", json={"label": ""}).status_code == 422
    assert client.patch("/api/runs/0123456789abcdef", json={"label": "x"}).status_code == 404
    assert client.post("/api/runs?project=a%2Bb", json=graph_of()).status_code == 422


def test_a_dataset_that_is_not_on_disk_is_refused_before_a_run_starts(client, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setenv("TORCHCANVAS_DATA", str(tmp_path / "empty"))
    graph = tiny_graph()
    graph["data"] = {"dataset": "mnist"}
    graph["nodes"][0]["params"]["shape"] = [1, 28, 28]
    graph["nodes"].insert(1, {"id": "flat", "type": "Flatten", "inputs": ["x"]})
    graph["nodes"][2]["inputs"] = ["flat"]
    r = client.post("/api/runs", json=graph)
    assert r.status_code == 422, r.text
    assert "torchcanvas download mnist" in r.json()["detail"]
    assert str(tmp_path) not in r.text
    assert client.get("/api/runs").json() == []
