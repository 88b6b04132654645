"""Small sequence tasks that teach, generated from a seed, and a character corpus.

Each function returns numpy arrays `(x, y)`: token tasks give `x` as int64 ids
`(N, T)`; the sine windows give floats `(N, T, 1)`. Targets are int64 class
indices `(N,)` for a whole-sequence label, `(N, T)` for one label per position
(reverse/copy, the character language model), or floats `(N, H)` for the
forecast. Like `generated`, these functions are pasted verbatim into exported
scripts: they use nothing but numpy and the standard library, no network.
"""

from __future__ import annotations

import codecs
import contextlib
import importlib
import inspect
import io

import numpy as np

# Modules whose docstrings make the "stdlib_docs" corpus: text every Python has.
DOC_MODULES = ("argparse", "bisect", "calendar", "collections", "csv", "difflib", "fractions",
               "functools", "heapq", "json", "random", "shutil", "statistics", "string",
               "textwrap", "zipfile")


def sine_windows(n_samples, length, horizon, noise, seed):
    """Windows of noisy sine waves (random frequency and phase) and the clean values after.

    x: float (N, length, 1), one value per time step; y: float (N, horizon), the
    next `horizon` values of the same wave without noise.
    """
    rng = np.random.default_rng(seed)
    period = rng.uniform(8.0, 24.0, (n_samples, 1))  # time steps per cycle
    phase = rng.uniform(0.0, 2 * np.pi, (n_samples, 1))
    t = np.arange(length + horizon)[None, :]
    wave = np.sin(2 * np.pi * t / period + phase)
    x = wave[:, :length] + rng.normal(0.0, noise, (n_samples, length))
    return x[:, :, None], wave[:, length:]


def parity(n_samples, length, seed):
    """Bit strings (ids 0 and 1) labelled 1 when they hold an odd number of ones."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, (n_samples, length))
    return x.astype(np.int64), (x.sum(axis=1) % 2).astype(np.int64)


def brackets(n_samples, length, seed):
    """Strings of '(' (id 0) and ')' (id 1), labelled 1 when balanced.

    Half are balanced words drawn at random; the other half are balanced words
    with one bracket flipped, so a model cannot tell them apart by counting alone
    within a window: it must track the depth along the whole string.
    """
    rng = np.random.default_rng(seed)
    half = length // 2
    x = np.zeros((n_samples, length), dtype=np.int64)
    y = np.arange(n_samples) % 2
    for i in range(n_samples):
        opened = depth = 0
        for t in range(2 * half):
            can_open, can_close = opened < half, depth > 0
            close = can_close and (not can_open or rng.random() < 0.5)
            x[i, t] = 1 if close else 0
            depth += -1 if close else 1
            opened += 0 if close else 1
        if length % 2:
            x[i, -1] = rng.integers(0, 2)  # an odd length is never balanced
        if y[i] == 0 and length % 2 == 0:
            flip = rng.integers(0, length)
            x[i, flip] = 1 - x[i, flip]
    if length % 2:
        y[:] = 0
    return x, y.astype(np.int64)


def reverse(n_samples, length, vocab, mode, seed):
    """Random token ids and, per position, the id to emit: the string reversed or copied."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, vocab, (n_samples, length)).astype(np.int64)
    y = x[:, ::-1] if mode == "reverse" else x
    return x, np.ascontiguousarray(y)


def corpus_text(corpus):
    """The text of a corpus that ships with Python: nothing is downloaded.

    "zen": The Zen of Python, stored ROT13-encoded in the standard `this` module
    (importing it prints the poem, so that print is swallowed). "stdlib_docs":
    the module docstrings of DOC_MODULES, which vary a little between Python
    versions.
    """
    if corpus == "zen":
        with contextlib.redirect_stdout(io.StringIO()):
            this = importlib.import_module("this")
        return codecs.decode(this.s, "rot13")
    parts = []
    for name in DOC_MODULES:
        parts.append((inspect.getdoc(importlib.import_module(name)) or "").strip())
    text = "\n\n".join(parts)
    return "".join(c if c.isascii() else "?" for c in text)


def corpus_vocab(corpus):
    """The corpus's distinct characters, sorted: id i is vocab[i]."""
    return sorted(set(corpus_text(corpus)))


def char_windows(n_samples, length, corpus, seed):
    """Windows of `length` characters and, per position, the character that follows.

    x: int64 ids (N, length); y: int64 ids (N, length), x shifted left by one.
    """
    text = corpus_text(corpus)
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    ids = np.array([index[c] for c in text], dtype=np.int64)
    if len(ids) <= length + 1:
        raise ValueError(f"the corpus has {len(ids)} characters; use a length below that")
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, len(ids) - length - 1, n_samples)
    window = starts[:, None] + np.arange(length)[None, :]
    return ids[window], ids[window + 1]


def char_context(n_samples, length, corpus, seed):
    """Windows of `length` characters and the one character that follows each: makemore's
    task, the next character from a fixed context.

    x: int64 ids (N, length); y: int64 ids (N,).
    """
    x, y = char_windows(n_samples, length, corpus, seed)
    return x, y[:, -1]


def anagrams(n_samples, length, vocab, seed):
    """Pairs of letter strings, labelled 1 when the second is a shuffle of the first.

    x: int64 (N, 2, length): the two strings of a pair stacked in dim 1, one per
    Input of a two-input model (a Siamese network); y: 1 for an anagram, 0 when
    one letter of the shuffle was changed to another.
    """
    rng = np.random.default_rng(seed)
    a = rng.integers(0, vocab, (n_samples, length))
    b = rng.permuted(a, axis=1)
    y = np.arange(n_samples) % 2
    for i in np.flatnonzero(y == 0):
        at = rng.integers(0, length)
        b[i, at] = (b[i, at] + rng.integers(1, vocab)) % vocab  # always a different letter
    return np.stack([a, b], axis=1).astype(np.int64), y.astype(np.int64)
