"""Datasets: the registry, previews, and uploads (CSV, zip of class folders) and their limits."""

from __future__ import annotations

import io
import stat
import zipfile

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from server.app import create_app

from .conftest import BASE, make_settings, tiny_graph

GOOD_CSV = "a,b,label\n" + "".join(f"{i},{i % 3},{'yes' if i % 2 else 'no'}\n"
                                   for i in range(40))


def png(size=(8, 8), color=(200, 10, 10), mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color if mode == "RGB" else 1).save(buf, "PNG")
    return buf.getvalue()


def make_zip(entries: dict[str, bytes | None], links: tuple[str, ...] = (),
             method=zipfile.ZIP_DEFLATED) -> bytes:
    """A zip from name -> bytes (None: a directory entry); `links` become symlinks."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in entries.items():
            if data is None:
                zf.writestr(zipfile.ZipInfo(name), b"")
            else:
                zf.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


GOOD_ZIP = {"cat/1.png": png(), "cat/2.png": png(), "dog/1.png": png(color=(0, 0, 200)),
            "dog/2.png": png(color=(0, 0, 200))}


def upload(client, content: bytes, filename="data.csv", **form):
    return client.post("/api/datasets", files={"file": (filename, content)}, data=form)


def assert_nothing_left(settings):
    folder = settings.uploads_dir
    leftovers = list(folder.iterdir()) if folder.exists() else []
    assert leftovers == [], leftovers


def test_registry_is_listed(client):
    body = client.get("/api/datasets").json()
    names = {d["name"] for d in body["datasets"]}
    assert {"circles", "digits", "csv", "imagefolder"} <= names and body["uploads"] == []


def test_preview_of_a_builtin_dataset(client):
    r = client.get("/api/datasets/circles/preview", params={"params": '{"n_samples": 50}'})
    assert r.status_code == 200 and r.json()["task"] in ("classification", "binary")
    assert client.get("/api/datasets/nope/preview").status_code == 404
    assert client.get("/api/datasets/circles/preview?params=[1]").status_code == 422
    assert client.get("/api/datasets/circles/preview?params={bad").status_code == 422


def test_preview_refuses_a_foreign_path(client):
    r = client.get("/api/datasets/csv/preview",
                   params={"params": '{"path": "/etc/passwd", "label": "x"}'})
    assert r.status_code == 422 and "root:" not in r.text


def test_csv_upload_is_stored_listed_previewed_and_usable(client, settings):
    r = upload(client, GOOD_CSV.encode(), "My Data.csv", label="label")
    assert r.status_code == 201, r.text
    up = r.json()
    assert up["name"] == "My_Data" and up["kind"] == "csv" and up["dataset"] == "csv"
    assert up["params"]["label"] == "label"
    # Stored under the dataset's name: an exported script says `--data My_Data.csv`.
    assert up["params"]["path"] == str(settings.uploads_dir / up["id"] / "My_Data.csv")
    assert up["info"]["feature_names"] == ["a", "b"]
    assert client.get("/api/datasets").json()["uploads"] == [up]
    preview = client.get(f"/api/datasets/{up['name']}/preview")
    assert preview.status_code == 200
    graph = tiny_graph()
    graph["data"] = {"dataset": up["dataset"], "params": up["params"]}
    assert client.post("/api/graphs/validate", json=graph).json()["valid"]
    again = upload(client, GOOD_CSV.encode(), name="My_Data")
    assert again.status_code == 409
    auto = upload(client, GOOD_CSV.encode(), "My Data.csv")
    assert auto.status_code == 201 and auto.json()["name"].startswith("My_Data-")


@pytest.mark.parametrize(("content", "why"), [
    (b"", "empty"),
    (b"a,b,label\n", "no data rows"),
    (b"a,b,label\n1,2,x\n3,4\n", "line"),
    (b"a,b,label\n1,nan,x\n2,3,y\n", "NaN"),
    (b"a,b,label\n1,inf,x\n2,3,y\n", "inf"),
    (b"a,b,c\n1,2,x\n3,4,y\n", "no column"),
    (b"\x89PNG\r\n\x1a\n\x00\x00binary", "binary"),
    (b"a,b,label\n1,hello,x\n2,3,y\n", "b"),
    (b",".join(b"c%d" % i for i in range(10**6)) + b"\n" + b"1," * 999_999 + b"1\n", "columns"),
])
def test_bad_csv_is_422_with_the_reason_and_nothing_kept(client, settings, content, why):
    r = upload(client, content, label="label")
    assert r.status_code == 422, r.text
    assert why.lower() in r.json()["detail"].lower()
    assert_nothing_left(settings)
    assert client.get("/api/datasets").json()["uploads"] == []


def test_csv_limits(tmp_path):
    settings = make_settings(tmp_path, max_csv_columns=5, max_csv_rows=10)
    with TestClient(create_app(settings), base_url=BASE) as c:
        wide = ",".join(f"c{i}" for i in range(10)) + "\n" + ",".join("1" * 10) + "\n"
        assert "columns" in upload(c, wide.encode()).json()["detail"]
        tall = "a,label\n" + "1,x\n" * 50
        assert "rows" in upload(c, tall.encode()).json()["detail"]
        assert_nothing_left(settings)


def test_upload_over_the_size_limit_is_413(tmp_path):
    settings = make_settings(tmp_path, max_upload_bytes=2000)
    with TestClient(create_app(settings), base_url=BASE) as c:
        r = upload(c, GOOD_CSV.encode() * 10)
        assert r.status_code == 413
        assert_nothing_left(settings)


def test_image_zip_upload(client, settings):
    r = upload(client, make_zip({f"pets/{k}": v for k, v in GOOD_ZIP.items()}), "pets.zip")
    assert r.status_code == 201, r.text
    up = r.json()
    assert up["kind"] == "images" and up["dataset"] == "imagefolder"
    assert up["info"]["class_names"] == ["cat", "dog"]
    folder = settings.uploads_dir / up["id"] / "pets"
    assert sorted(p.name for p in folder.iterdir()) == ["cat", "dog"]
    assert client.get(f"/api/datasets/{up['name']}/preview").status_code == 200


@pytest.mark.parametrize(("entries", "links", "why"), [
    (GOOD_ZIP | {"../evil.png": png()}, (), "relative"),
    (GOOD_ZIP | {"/abs/evil.png": png()}, (), "relative"),
    (GOOD_ZIP | {"cat\\..\\..\\evil.png": png()}, (), "relative"),
    (GOOD_ZIP | {"C:/evil.png": png()}, (), "relative"),
    (GOOD_ZIP, ("cat/link.png",), "links"),
    (GOOD_ZIP | {"cat/inner.zip": make_zip(GOOD_ZIP)}, (), "archives"),
    (GOOD_ZIP | {"bird/": None}, (), "holds no images"),
    (GOOD_ZIP | {"cat/broken.png": b"\x89PNG\r\n\x1a\nnot really"}, (), "not a readable image"),
    (GOOD_ZIP | {"cat/notes.txt": b"hello"}, (), "only images"),
    ({"cat/1.png": png()}, (), "two class folders"),
    ({"1.png": png(), "2.png": png()}, (), "class folders"),
    ({"cat/1.png": png((5000, 5000), mode="1"), "dog/1.png": png()}, (), "pixels"),
])
def test_bad_zip_is_422_and_nothing_is_left(client, settings, entries, links, why):
    r = upload(client, make_zip(entries, links), "bad.zip")
    assert r.status_code == 422, r.text
    assert why in r.json()["detail"]
    assert_nothing_left(settings)


def test_zip_limits_entries_size_and_ratio(tmp_path):
    settings = make_settings(tmp_path, max_zip_entries=5, max_unzipped_bytes=10**6,
                             max_zip_ratio=50)
    with TestClient(create_app(settings), base_url=BASE) as c:
        many = {f"cat/{i}.png": png() for i in range(6)}
        assert "entries" in upload(c, make_zip(many), "z.zip").json()["detail"]
        bomb = GOOD_ZIP | {"cat/big.png": b"\x00" * 2 * 10**6}
        assert "unpack" in upload(c, make_zip(bomb), "z.zip").json()["detail"]
        ratio = GOOD_ZIP | {"cat/zeros.png": b"\x00" * 500_000}
        assert "ratio" in upload(c, make_zip(ratio), "z.zip").json()["detail"]
        assert_nothing_left(settings)


def test_pillow_decompression_bomb_is_refused(tmp_path):
    # Our own pixel limit set high so Pillow's bomb check is what refuses it.
    settings = make_settings(tmp_path, max_image_pixels=10**10)
    with TestClient(create_app(settings), base_url=BASE) as c:
        huge = png((Image.MAX_IMAGE_PIXELS // 8000 + 1000, 8000), mode="1")
        r = upload(c, make_zip(GOOD_ZIP | {"cat/huge.png": huge}), "z.zip")
        assert r.status_code == 422 and "too large" in r.json()["detail"]
        assert_nothing_left(settings)


@pytest.mark.parametrize("name", ["..", "%2e%2e%2f", "%2Fetc%2Fpasswd", "C:\\x", "\\\\host\\share"])
def test_hostile_dataset_names(client, name):
    r = client.get(f"/api/datasets/{name}/preview")
    assert r.status_code in (404, 422) and "root:" not in r.text
    assert upload(client, GOOD_CSV.encode(), name=name).status_code == 422
