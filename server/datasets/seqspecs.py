"""The registry rows of the generated sequence tasks and the character corpus, and
what each looks like for given params (shapes, vocabulary, classes).

They live beside `registry` rather than in it because their description depends
on the params (a window's length is the input's length, the corpus decides the
vocabulary); `registry.describe_spec` hands the "sequence" family to `describe`.
"""

from __future__ import annotations

import string
from functools import lru_cache
from typing import Any

from server.catalog.params import Param

from .base import DatasetError, DatasetInfo

_SEED = Param("seed", "int", 0, "Seed of the generator: the same seed gives the same data")


def _count(default: int) -> Param:
    return Param("n_samples", "int", default, "How many sequences to generate", min=10,
                 max=100_000)


def _length(default: int, lo: int, hi: int, what: str = "Time steps per sequence") -> Param:
    return Param("length", "int", default, what, min=lo, max=hi)


def _corpus(default: str) -> Param:
    return Param("corpus", "choice", default, "The text: The Zen of Python, or standard-library "
                 "docstrings", choices=("zen", "stdlib_docs"))


def rows(spec_class: type) -> tuple:
    """The DatasetSpec rows, built with registry's class (passed in: no import cycle)."""
    return (
        spec_class(
            "sine_forecast", "sequence", "regression", "sequence",
            "Forecasting: a window of a noisy sine wave (random period and phase), one value "
            "per time step, and the next values of the clean wave to predict. An LSTM reads "
            "the window (N, T, 1); its last step predicts the future (MSE).",
            (_count(1000), _length(32, 4, 512),
             Param("horizon", "int", 1, "How many future values to predict", min=1, max=64),
             Param("noise", "float", 0.05, "Standard deviation of the noise on the window",
                   min=0, max=2), _SEED),
            source="sine_windows", target_name="next"),
        spec_class(
            "parity", "sequence", "classification", "sequence",
            "Sequence classification: bit strings (token ids 0 and 1), labelled odd or even "
            "by their number of ones. Every bit matters, so the model must carry a running "
            "answer along the whole string: a classic task for an RNN. 4 bits train in "
            "seconds; from about 6 bits the loss can sit at chance for many epochs first.",
            (_count(2000), _length(4, 2, 256, "Bits per string"), _SEED),
            class_names=("even", "odd"), source="parity"),
        spec_class(
            "brackets", "sequence", "classification", "sequence",
            "Sequence classification: strings of '(' and ')' (ids 0 and 1), balanced or not. "
            "The unbalanced half are balanced strings with one bracket flipped, so the model "
            "must track the depth along the string.",
            (_count(2000), _length(12, 2, 256, "Brackets per string"), _SEED),
            class_names=("unbalanced", "balanced"), source="brackets"),
        spec_class(
            "reverse", "sequence", "classification", "sequence",
            "Sequence to sequence: random letters (token ids) and, at every position, the "
            "letter to emit: the string reversed (or copied). One class per position: the "
            "model outputs (N, T, vocab) scores, e.g. Embedding -> bidirectional LSTM -> "
            "Linear.",
            (_count(2000), _length(8, 2, 128, "Letters per string"),
             Param("vocab", "int", 8, "Distinct letters (a, b, c, ...)", min=2, max=26),
             Param("mode", "choice", "reverse", "reverse or copy the string",
                   choices=("reverse", "copy")), _SEED),
            source="reverse"),
        spec_class(
            "charlm", "sequence", "classification", "sequence",
            "Character-level language modelling: windows of text and, at every position, the "
            "character that follows. No download: 'zen' is The Zen of Python from Python's own "
            "`this` module; 'stdlib_docs' the docstrings of 16 standard-library modules "
            "(argparse, collections, json, ...). The Zen is 856 characters, so its windows "
            "overlap and validation measures memorising; the docstrings (about 17k) test more. "
            "Reports perplexity; Try it samples text.",
            (_count(2000), _length(32, 2, 256, "Characters per window"),
             _corpus("zen"), _SEED),
            source="char_windows"),
        spec_class(
            "charnext", "sequence", "classification", "sequence",
            "Next character from a fixed context, the task of makemore's MLP: a few characters "
            "(token ids) and the one that follows. The same texts as charlm, no download; "
            "'stdlib_docs' (about 17k characters) by default. Try it gives the next "
            "character's probabilities.",
            (_count(4000), _length(3, 1, 64, "Characters of context"),
             _corpus("stdlib_docs"), _SEED),
            source="char_context"),
        spec_class(
            "anagrams", "sequence", "classification", "sequence",
            "Two inputs: pairs of letter strings (token ids), anagram or not: the second is a "
            "shuffle of the first, or a shuffle with one letter changed. Each string feeds its "
            "own Input; a Siamese network encodes both with one shared layer and compares.",
            (_count(2000), _length(6, 2, 128, "Letters per string"),
             Param("vocab", "int", 6, "Distinct letters (a, b, c, ...)", min=2, max=26), _SEED),
            class_names=("different", "anagram"), source="anagrams"),
    )


@lru_cache(maxsize=4)
def _vocab(corpus: str) -> tuple[str, ...]:
    from .sequences import corpus_vocab

    return tuple(corpus_vocab(corpus))


def char_count(corpus: str) -> int:
    from .sequences import corpus_text

    return len(corpus_text(corpus))


def describe(spec: Any, values: dict[str, Any]) -> DatasetInfo:
    """The DatasetInfo of a sequence row with checked params."""
    t = values["length"]
    common = dict(name=spec.name, kind=spec.kind, description=spec.description,
                  feature_names=[])
    if spec.source == "sine_windows":
        return DatasetInfo(task="regression", input_shape=(t, 1), num_classes=None,
                           class_names=[], output_width=values["horizon"], **common)
    if spec.source in ("parity", "brackets"):
        names = ("0", "1") if spec.source == "parity" else ("(", ")")
        return DatasetInfo(task="classification", input_shape=(t,), num_classes=2,
                           class_names=list(spec.class_names), output_width=2,
                           input_dtype="long", vocab_size=2, tokens="char", token_names=names,
                           **common)
    if spec.source == "reverse":
        letters = tuple(string.ascii_lowercase[:values["vocab"]])
        return DatasetInfo(task="classification", input_shape=(t,), num_classes=len(letters),
                           class_names=list(letters), output_width=len(letters),
                           input_dtype="long", vocab_size=len(letters), target_shape=(t,),
                           tokens="char", token_names=letters, **common)
    if spec.source == "anagrams":
        letters = tuple(string.ascii_lowercase[:values["vocab"]])
        return DatasetInfo(task="classification", input_shape=(t,), num_classes=2,
                           class_names=list(spec.class_names), output_width=2,
                           input_dtype="long", vocab_size=len(letters), tokens="char",
                           token_names=letters, input_count=2, **common)
    if spec.source in ("char_windows", "char_context"):
        # The same windows of text: the next character at every position (a language model),
        # or only the one after the window (makemore's task).
        vocab = _vocab(values["corpus"])
        if t + 1 >= char_count(values["corpus"]):
            raise DatasetError(f"{spec.name}: the corpus has only {char_count(values['corpus'])} "
                               f"characters; choose a shorter length", param="length")
        every = spec.source == "char_windows"
        return DatasetInfo(task="classification", input_shape=(t,), num_classes=len(vocab),
                           class_names=list(vocab), output_width=len(vocab), input_dtype="long",
                           vocab_size=len(vocab), target_shape=(t,) if every else (),
                           tokens="char", token_names=vocab, language_model=every, **common)
    raise AssertionError(spec.source)


def catalog_entry(spec: Any) -> dict[str, Any]:
    """What the dataset list shows for a sequence row with its default params."""
    from server.catalog.params import check_params

    info = describe(spec, check_params(spec.params, {}).values)
    out = info.to_dict()
    out.pop("description")
    return out
