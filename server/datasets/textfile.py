"""A CSV file with a text column as a dataset for text classification.

`read_text_table` reads the text column and the label column, splits every
text into tokens (words and punctuation, lower-cased, or single characters),
builds the vocabulary from the whole file (id 0 pads, id 1 stands for a token
outside the vocabulary, then tokens by falling count, ties alphabetical, up to
`max_vocab` ids) and encodes each text as `max_length` ids, cut or padded at the
end. The same `encode_text` turns what a person types into ids, so Try-it and
an exported script encode exactly as training did; the run keeps the vocabulary
with its checkpoints. Labels follow the CSV rule (`csvfile`): text or few whole
numbers are classes, two classes are "binary" unless `task` says otherwise.
Pasted verbatim into exported scripts: standard library and numpy only.
"""

from __future__ import annotations

import collections
import csv
import os
import re

import numpy as np

from .csvfile import MAX_CLASSES, MAX_CSV_BYTES, MAX_CSV_ROWS, CsvError

PAD, UNKNOWN = "<pad>", "<unk>"
WORD = r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]"  # a word (don't, it's) or one punctuation mark


def tokenize(text, tokens):
    """A text's tokens: lower-cased words and punctuation marks, or its characters."""
    if tokens == "char":
        return list(text)
    return re.findall(WORD, text.lower())


def encode_text(text, vocab, tokens, max_length):
    """int64 ids (max_length,) of a text: unknown tokens are 1, the rest padded with 0."""
    index = {t: i for i, t in enumerate(vocab)}
    ids = [index.get(t, 1) for t in tokenize(text, tokens)][:max_length]
    return np.array(ids + [0] * (max_length - len(ids)), dtype=np.int64)


def read_text_table(path, text, label="", task="auto", tokens="word", max_length=64,
                    max_vocab=5000):
    """Parse a CSV with a text column into (x, y, vocab, class_names, task, label).

    x: int64 ids (N, max_length); y: int64 class indices (N,); vocab: the token of
    each id. label "" means the last column other than the text.
    """
    if not os.path.isfile(path):
        raise CsvError(f"no such file: {path}")
    if os.path.getsize(path) > MAX_CSV_BYTES:
        raise CsvError(f"{path} is larger than {MAX_CSV_BYTES // 2**20} MiB")
    if task == "regression":
        raise CsvError("a text column is for classification: set task to auto, "
                       "classification or binary", "task")
    with open(path, newline="", encoding="utf-8-sig") as f:
        try:
            rows = csv.reader(f)
            header = [cell.strip() for cell in next(rows, [])]
            if text not in header:
                raise CsvError(f"no column {text!r}; the columns are {', '.join(header)}",
                               "text")
            others = [name for name in header if name != text]
            label = label or (others[-1] if others else "")
            if label not in others:
                raise CsvError(f"no label column {label!r} besides the text; the columns are "
                               f"{', '.join(header)}", "label")
            at, lt = header.index(text), header.index(label)
            texts, labels = [], []
            for row in rows:
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    raise CsvError(f"line {rows.line_num} has {len(row)} values, the header "
                                   f"has {len(header)}")
                if len(texts) >= MAX_CSV_ROWS:
                    raise CsvError(f"{path} has more than {MAX_CSV_ROWS} rows")
                if not row[lt].strip():
                    raise CsvError(f"the label column {label!r} is empty on line "
                                   f"{rows.line_num}", "label")
                texts.append(row[at])
                labels.append(row[lt].strip())
        except (UnicodeDecodeError, csv.Error) as exc:
            raise CsvError(f"{path} is not a readable CSV text file: {exc}") from None
    if not texts:
        raise CsvError(f"{path} has a header row but no data rows")
    counts = collections.Counter(t for s in texts for t in tokenize(s, tokens))
    vocab = [PAD, UNKNOWN] + sorted(counts, key=lambda t: (-counts[t], t))[:max_vocab - 2]
    x = np.stack([encode_text(s, vocab, tokens, max_length) for s in texts])
    try:  # numeric labels in numeric order, named canonically (1.0 -> "1")
        keys = [int(v) if float(v).is_integer() else float(v) for v in labels]
    except ValueError:
        keys = labels
    classes = sorted(set(keys))
    if len(classes) < 2:
        raise CsvError(f"the label column {label!r} has a single value; nothing to classify",
                       "label")
    if len(classes) > MAX_CLASSES:
        raise CsvError(f"the label column {label!r} has {len(classes)} classes; at most "
                       f"{MAX_CLASSES}", "label")
    if task == "binary" and len(classes) != 2:
        raise CsvError(f"binary needs exactly two labels in {label!r}, found {len(classes)}",
                       "task")
    if task == "auto":
        task = "binary" if len(classes) == 2 else "classification"
    index = {k: i for i, k in enumerate(classes)}
    y = np.array([index[k] for k in keys], dtype=np.int64)
    return x, y, vocab, [str(c) for c in classes], task, label
