"""`preview_dataset`: small, strict-JSON looks at each kind of dataset, with its info."""

from __future__ import annotations

import json

import pytest

from server.datasets import DatasetError, describe_dataset, preview_dataset


def strict_json(preview: dict) -> dict:
    return json.loads(json.dumps(preview, allow_nan=False))


@pytest.mark.parametrize("name", ["spiral", "circles", "xor"])
def test_2d_preview_is_labelled_points(name):
    preview = strict_json(preview_dataset(name, {"n_samples": 1000}))
    assert len(preview["points"]) == 300
    assert all(len(p) == 3 and p[2] in (0, 1) for p in preview["points"])
    assert {p[2] for p in preview["points"]} == {0, 1}  # spread over the set, not one class
    assert preview["task"] == "classification" and preview["input_shape"] == [2]


def test_regression_preview_points_end_with_the_target():
    sine = strict_json(preview_dataset("sine", {"n_samples": 50}))
    assert len(sine["points"]) == 50 and all(len(p) == 2 for p in sine["points"])
    plane = strict_json(preview_dataset("plane", {}))
    assert all(len(p) == 3 for p in plane["points"])


def test_image_preview_is_pixels_in_0_1_with_labels():
    preview = strict_json(preview_dataset("digits", {}, n=5))
    assert len(preview["images"]) == len(preview["labels"]) == 5
    image = preview["images"][0]
    assert (len(image), len(image[0]), len(image[0][0])) == (1, 8, 8)
    pixels = [v for img in preview["images"] for row in img[0] for v in row]
    assert 0 <= min(pixels) and max(pixels) <= 1
    assert preview["class_names"] == [str(d) for d in range(10)]


def test_mnist_preview_from_fake_files(fake_mnist):
    images, labels = fake_mnist("MNIST")
    preview = strict_json(preview_dataset("mnist", {}, n=3))
    assert preview["labels"] == [int(labels[0]), int(labels[14]), int(labels[29])]
    assert preview["images"][0][0][0][:3] == [round(v / 255, 3) for v in images[0][0][:3]]


def test_image_folder_preview_ignores_normalize(image_folder):
    params = {"path": str(image_folder()), "resize": 4, "normalize": True}
    preview = strict_json(preview_dataset("imagefolder", params, n=16))
    assert len(preview["images"]) == 6 and sorted(set(preview["labels"])) == [0, 1]
    pixels = [v for img in preview["images"] for ch in img for row in ch for v in row]
    assert 0 <= min(pixels) and max(pixels) <= 1


def test_table_preview_shows_columns_and_first_rows(write_csv):
    preview = strict_json(preview_dataset("iris", {}, n=2))
    assert preview["columns"] == describe_dataset("iris", {}).feature_names + ["class"]
    assert preview["rows"] == [[5.1, 3.5, 1.4, 0.2, "setosa"], [4.9, 3.0, 1.4, 0.2, "setosa"]]
    diabetes = strict_json(preview_dataset("diabetes", {}, n=1))
    assert diabetes["columns"][-1] == "progression" and diabetes["rows"][0][-1] == 151.0
    path = write_csv("a,b,kind\n1,2,cat\n3,4,dog\n")
    table = strict_json(preview_dataset("csv", {"path": path}))
    assert table["columns"] == ["a", "b", "kind"]
    assert table["rows"] == [[1.0, 2.0, "cat"], [3.0, 4.0, "dog"]]
    assert table["task"] == "binary"


def test_preview_errors_are_dataset_errors(data_root):
    with pytest.raises(DatasetError, match="could not be downloaded"):
        preview_dataset("cifar10", {})
    with pytest.raises(DatasetError, match="unknown dataset"):
        preview_dataset("nope", {})
