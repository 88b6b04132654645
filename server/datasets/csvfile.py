"""A user's CSV file as a dataset: one header row, numeric features, one label column.

`read_csv_table` parses the whole file with the standard `csv` module and
refuses, with a message naming the row and column, anything it cannot turn into
a clean float matrix: an empty file, a header alone, ragged rows, text or blank
cells among the features, NaN or infinity, an unknown label column, or a file
past the size limits below. It is pasted verbatim into exported scripts
(together with `CsvError` and the limits), so it uses only the standard
library and numpy.

The task rule when `task` is "auto": a label column holding any text is
classification over its sorted distinct values; a numeric one whose values are
all whole numbers with at most MAX_AUTO_CLASSES distinct values is
classification over those numbers in numeric order; anything else numeric is
regression. Classification with exactly two classes becomes "binary".
"""

from __future__ import annotations

import csv
import math
import os

import numpy as np

MAX_CSV_BYTES = 200 * 1024 * 1024
MAX_CSV_ROWS = 500_000
MAX_CSV_COLUMNS = 2_000
MAX_CLASSES = 1_000
MAX_AUTO_CLASSES = 20
CSV_CHUNK_VALUES = 1 << 20  # at most this many floats parsed into one block


class CsvError(ValueError):
    """A CSV file that cannot be used, with a message saying where and why."""

    def __init__(self, message, param="path"):
        self.param = param  # the dataset param to blame: "path" or "label"
        super().__init__(message)


def read_csv_table(path, label="", task="auto"):
    """Parse a CSV file into (x, y, feature_names, class_names, task, label).

    x: float64 (N, F). y: int64 (N,) class indices for "classification" and
    "binary", float64 (N, 1) for "regression". label "" means the last column;
    the label returned is the column's name.
    """
    if not os.path.isfile(path):
        raise CsvError(f"no such file: {path}")
    if os.path.getsize(path) > MAX_CSV_BYTES:
        raise CsvError(f"{path} is larger than {MAX_CSV_BYTES // 2**20} MiB")
    with open(path, newline="", encoding="utf-8-sig") as f:
        try:
            reader = csv.reader(f)
            header = next(reader, None)
            while header is not None and not any(cell.strip() for cell in header):
                header = next(reader, None)  # leading blank lines
            if header is None:
                raise CsvError(f"{path} is empty; it needs a header row and data rows")
            header = [cell.strip() for cell in header]
            if len(header) > MAX_CSV_COLUMNS:
                raise CsvError(f"{path} has {len(header)} columns; at most {MAX_CSV_COLUMNS}")
            if len(header) < 2:
                raise CsvError(f"{path} needs at least two columns: features and a label")
            for i, name in enumerate(header):
                if not name:
                    raise CsvError(f"column {i + 1} of the header row has no name")
                if header.index(name) != i:
                    raise CsvError(f"the header names column {name!r} twice")
            label = label or header[-1]
            if label not in header:
                raise CsvError(f"no column {label!r}; the columns are {', '.join(header)}", "label")
            target = header.index(label)
            features = [name for name in header if name != label]
            # Each row's features become floats as it is read: holding the rows as
            # text first cost over 20 times the file's size in memory.
            chunks, x, labels, lines, r = [], None, [], [], 0
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue  # blank lines, e.g. at the end of the file
                if len(row) != len(header):
                    raise CsvError(
                        f"line {reader.line_num} has {len(row)} values, "
                        f"the header has {len(header)}"
                    )
                if len(labels) >= MAX_CSV_ROWS:
                    raise CsvError(f"{path} has more than {MAX_CSV_ROWS} rows")
                if x is None or r == len(x):  # blocks double: a small file stays small
                    rows = max(64, min(2 * len(x) if x is not None else 64,
                                       CSV_CHUNK_VALUES // len(features)))
                    x, r = np.empty((rows, len(features)), dtype=np.float64), 0
                    chunks.append(x)
                c = 0
                for i, cell in enumerate(row):
                    if i == target:
                        continue
                    try:
                        value = float(cell)
                    except ValueError:
                        raise CsvError(f"column {header[i]!r} must be numeric, but line "
                                       f"{reader.line_num} holds {cell[:40]!r}") from None
                    if not math.isfinite(value):
                        raise CsvError(f"column {header[i]!r} holds {cell.strip()[:40]} on "
                                       f"line {reader.line_num}")
                    x[r, c] = value
                    c += 1
                r += 1
                labels.append(row[target].strip())
                lines.append(reader.line_num)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise CsvError(f"{path} is not a readable CSV text file: {exc}") from None
    if not labels:
        raise CsvError(f"{path} has a header row but no data rows")
    chunks[-1] = chunks[-1][:r]
    x = np.concatenate(chunks) if len(chunks) > 1 else chunks[0]

    for value, line in zip(labels, lines, strict=True):
        if not value:
            raise CsvError(f"the label column {label!r} is empty on line {line}")
    numbers = []
    for value in labels:
        try:
            numbers.append(float(value))
        except ValueError:
            numbers = None
            break
    if numbers is not None and not all(math.isfinite(v) for v in numbers):
        raise CsvError(f"the label column {label!r} holds NaN or infinity")
    auto = task == "auto"
    if auto:
        whole = numbers is not None and all(v.is_integer() for v in numbers)
        if numbers is None or (whole and len(set(numbers)) <= MAX_AUTO_CLASSES):
            task = "classification"
        else:
            task = "regression"
    if task == "regression":
        if numbers is None:
            raise CsvError(f"regression needs numbers in {label!r}, it holds text")
        y = np.array(numbers, dtype=np.float64).reshape(-1, 1)
        return x, y, features, [], task, label

    if numbers is not None:  # numeric classes: numeric order, canonical names (1.0 -> "1")
        keys = [int(v) if v.is_integer() else v for v in numbers]
        classes = sorted(set(keys))
        names = [str(k) for k in classes]
    else:
        keys = labels
        classes = names = sorted(set(labels))
    if len(classes) < 2:
        raise CsvError(f"the label column {label!r} has a single value; nothing to classify")
    if len(classes) > MAX_CLASSES:
        raise CsvError(
            f"the label column {label!r} has {len(classes)} classes; at most {MAX_CLASSES}"
        )
    if task == "binary" and len(classes) != 2:
        raise CsvError(f"binary needs exactly two labels in {label!r}, found {len(classes)}")
    if auto and len(classes) == 2:
        task = "binary"
    index = {k: i for i, k in enumerate(classes)}
    y = np.array([index[k] for k in keys], dtype=np.int64)
    return x, y, features, names, task, label
