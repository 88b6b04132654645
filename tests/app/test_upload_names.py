"""Uploads speak of the user's file, never of the server's folders (issue 12, items 11, 14).

A file that is not named .csv (a .txt) is refused as such; a refusal quotes the
uploaded file's name, not where the server stored it; the exported script of a
graph trained on an upload names that file and takes its location from `--data`.
"""

from __future__ import annotations

import subprocess
import sys

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
