"""CSV files: the task rule, label mapping, scaling, and a clear error for each bad file."""

from __future__ import annotations

import pytest
import torch

from server.datasets import DatasetError, csvfile, describe_dataset, load_dataset

GOOD = "a,b,kind\n1,2,cat\n3,4,dog\n5,6,cat\n7,8,bird\n"


def test_text_labels_become_sorted_classes(write_csv):
    path = write_csv(GOOD)
    info = describe_dataset("csv", {"path": path})
    assert info.task == "classification" and info.class_names == ["bird", "cat", "dog"]
    assert info.feature_names == ["a", "b"] and info.input_shape == (2,)
    assert info.output_width == 3 and info.kind == "tabular"
    data = load_dataset("csv", {"path": path}, val_fraction=0.25, seed=0)
    labels = torch.cat([data.y_train, data.y_val]).sort().values.tolist()
    assert labels == [0, 1, 1, 2] and data.y_train.dtype == torch.int64


@pytest.mark.parametrize(("labels", "task", "classes"), [
    (["0", "1", "1", "0"], "binary", ["0", "1"]),
    (["yes", "no", "no", "yes"], "binary", ["no", "yes"]),
    (["3", "10", "2", "3"], "classification", ["2", "3", "10"]),  # numeric order
    (["1.0", "2", "3", "2.0"], "classification", ["1", "2", "3"]),  # 1.0 is class "1"
    (["0.5", "1.5", "2", "3"], "regression", []),
    ([str(i) for i in range(30)], "regression", []),  # too many whole numbers for classes
])
def test_auto_task_rule(write_csv, labels, task, classes):
    rows = "".join(f"{i},{v}\n" for i, v in enumerate(labels))
    info = describe_dataset("csv", {"path": write_csv("x,y\n" + rows)})
    assert (info.task, info.class_names) == (task, classes)
    assert info.output_width == (1 if task != "classification" else len(classes))


def test_explicit_task_and_label_column(write_csv):
    path = write_csv("y,a,b\n0,1,2\n1,3,4\n0,5,6\n1,7,9\n")
    info = describe_dataset("csv", {"path": path, "label": "y", "task": "classification"})
    assert info.task == "classification" and info.output_width == 2
    assert info.feature_names == ["a", "b"]
    info = describe_dataset("csv", {"path": path, "label": "b", "task": "regression"})
    assert info.task == "regression" and info.feature_names == ["y", "a"]
    with pytest.raises(DatasetError, match="exactly two"):
        describe_dataset("csv", {"path": path, "label": "a", "task": "binary"})
    with pytest.raises(DatasetError, match="regression needs numbers"):
        describe_dataset("csv", {"path": write_csv(GOOD), "task": "regression"})


def test_features_standardized_with_training_statistics(write_csv):
    rows = "".join(f"{i},{i * i},{i % 2}\n" for i in range(20))
    data = load_dataset("csv", {"path": write_csv("a,b,c\n" + rows)}, val_fraction=0.25, seed=1)
    assert data.x_train.shape == (15, 2) and data.x_val.shape == (5, 2)
    assert torch.allclose(data.x_train.mean(0), torch.zeros(2), atol=1e-5)
    assert torch.allclose(data.x_train.std(0, unbiased=False), torch.ones(2), atol=1e-5)


def test_regression_targets_standardized(write_csv):
    rows = "".join(f"{i},{100 + 7.5 * i}\n" for i in range(20))
    data = load_dataset("csv", {"path": write_csv("a,t\n" + rows)}, val_fraction=0.2, seed=0)
    assert data.y_train.shape == (16, 1) and data.y_train.dtype == torch.float32
    assert abs(float(data.y_train.mean())) < 1e-5 and data.target_std is not None


def test_quotes_bom_spaces_and_blank_lines(write_csv):
    path = write_csv('\ufeff"first, col", second ,label\n" 1",2, a \n\n3,4,b\n\n')
    info = describe_dataset("csv", {"path": path, "label": "label"})
    assert info.feature_names == ["first, col", "second"] and info.class_names == ["a", "b"]


def test_an_edited_file_is_read_again(write_csv, tmp_path):
    path = write_csv(GOOD, "same.csv")
    assert describe_dataset("csv", {"path": path}).num_classes == 3
    (tmp_path / "same.csv").write_text(GOOD + "9,9,emu\n", encoding="utf-8")
    assert describe_dataset("csv", {"path": path}).num_classes == 4


@pytest.mark.parametrize(("text", "param", "fragment"), [
    ("", "path", "is empty"),
    ("\n\n", "path", "is empty"),
    ("a,b,c\n", "path", "header row but no data rows"),
    ("a,b,c\n\n\n", "path", "header row but no data rows"),
    ("a,b,c\n1,2,3\n4,5\n", "path", "line 3 has 2 values, the header has 3"),
    ("a,b,c\n1,2,3\n4,5,6,7\n", "path", "line 3 has 4 values"),
    ("a,b,c\n1,x,0\n2,3,1\n", "path", "column 'b' must be numeric, but line 2 holds 'x'"),
    ("a,b,c\n1,,0\n2,3,1\n", "path", "column 'b' must be numeric"),
    ("a,b,c\n1,nan,0\n2,3,1\n", "path", "column 'b' holds nan on line 2"),
    ("a,b,c\n1,2,0\n2,-inf,1\n", "path", "column 'b' holds -inf on line 3"),
    ("a,b,c\n1,2,0\n2,3,\n", "path", "label column 'c' is empty on line 3"),
    ("a,b,c\n1,2,nan\n2,3,1.5\n", "path", "NaN or infinity"),
    ("a,b,c\n1,2,0\n2,3,0\n", "path", "single value"),
    ("a\n1\n2\n", "path", "at least two columns"),
    ("a,,c\n1,2,3\n", "path", "column 2 of the header row has no name"),
    ("a,a,c\n1,2,3\n", "path", "names column 'a' twice"),
])
def test_bad_files_get_clear_errors(write_csv, text, param, fragment):
    with pytest.raises(DatasetError, match=fragment.replace("(", r"\(")) as caught:
        describe_dataset("csv", {"path": write_csv(text)})
    assert caught.value.param == param


def test_missing_label_column_names_the_columns(write_csv):
    with pytest.raises(DatasetError, match="no column 'kinds'; the columns are a, b, kind") as e:
        describe_dataset("csv", {"path": write_csv(GOOD), "label": "kinds"})
    assert e.value.param == "label"


def test_missing_file_and_folder_and_binary_file(write_csv, tmp_path):
    with pytest.raises(DatasetError, match="no such file"):
        describe_dataset("csv", {"path": str(tmp_path / "absent.csv")})
    with pytest.raises(DatasetError, match="no such file"):
        describe_dataset("csv", {"path": str(tmp_path)})
    binary = tmp_path / "blob.csv"
    binary.write_bytes(b"a,b\n\xff\xfe\x00,1\n")
    with pytest.raises(DatasetError, match="not a readable CSV text file"):
        describe_dataset("csv", {"path": str(binary)})


def test_size_limits(write_csv, monkeypatch):
    monkeypatch.setattr(csvfile, "MAX_CSV_ROWS", 3)
    monkeypatch.setattr(csvfile, "MAX_CSV_COLUMNS", 3)
    with pytest.raises(DatasetError, match="more than 3 rows"):
        describe_dataset("csv", {"path": write_csv("a,b\n" + "1,0\n2,1\n" * 2)})
    with pytest.raises(DatasetError, match="4 columns; at most 3"):
        describe_dataset("csv", {"path": write_csv("a,b,c,d\n1,2,3,4\n")})
    monkeypatch.setattr(csvfile, "MAX_CSV_BYTES", 10)
    with pytest.raises(DatasetError, match="larger than"):
        describe_dataset("csv", {"path": write_csv(GOOD)})


def test_parsing_a_wide_csv_takes_bounded_memory(tmp_path):
    """Issue 13 case 7: a 1000-column numeric CSV once took 23.7x its size to parse."""
    import tracemalloc

    from server.datasets.csvfile import read_csv_table

    path = tmp_path / "wide.csv"
    cols = 1000
    row = ",".join(f"{(i % 97) / 7:.6f}" for i in range(cols))
    with path.open("w") as f:
        f.write(",".join(f"f{i}" for i in range(cols)) + ",label\n")
        for n in range(400):
            f.write(f"{row},{n % 2}\n")
    size = path.stat().st_size
    tracemalloc.start()
    try:
        x, *_ = read_csv_table(str(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert x.shape == (400, cols)
    # The float matrix itself is about 0.8x the text here; allow it plus small blocks.
    assert peak < 3 * size + x.nbytes, (peak, size)
