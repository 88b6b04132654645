"""Lints: warnings that teach, on the node where the fix belongs, never making a graph invalid.

Each case builds a small graph with one classic beginner's mistake and checks
the warning names the right node (or component) and says what to do; the
matching correct graph must be free of that warning.
"""

from __future__ import annotations

from typing import Any

import pytest

from server.validation import validate_graph

from .support import chain

DIGITS = {"dataset": "digits"}
IMAGE_HEAD = [("Flatten", {}), ("Linear", {"out_features": 10})]  # digits: (1, 8, 8), 10 classes


def _warnings(g: dict[str, Any]) -> list[dict[str, Any]]:
    report = validate_graph(g)
    assert report.valid, report.all_errors()  # a warning never makes a graph invalid
    return [w.model_dump() for w in report.all_warnings()]


def _digits(*layers: tuple[str, dict], loss: str | None = None) -> dict[str, Any]:
    extra: dict[str, Any] = {"data": DIGITS}
    if loss:
        extra["loss"] = {"type": loss}
    return chain([1, 8, 8], *IMAGE_HEAD, *layers, **extra)


def _vector(*layers: tuple[str, dict], loss: str | None = None) -> dict[str, Any]:
    return chain([4], *layers, **({"loss": {"type": loss}} if loss else {}))


LAST = "n{}"  # chain ids: n1, n2, ...

CASES = [
    # (id, graph, node or None, component or None, substring)
    ("softmax-before-ce", _digits(("Softmax", {}), loss="CrossEntropyLoss"),
     "n3", None, "expects raw scores (logits); remove this Softmax"),
    ("logsoftmax-before-ce", _digits(("LogSoftmax", {}), loss="CrossEntropyLoss"),
     "n3", None, "remove this LogSoftmax"),
    ("sigmoid-before-bcewithlogits", _vector(("Linear", {"out_features": 1}), ("Sigmoid", {}),
                                             loss="BCEWithLogitsLoss"),
     "n2", None, "applies the sigmoid itself"),
    ("nll-without-logsoftmax", _digits(loss="NLLLoss"), "n2", None, "end the network with "
     "LogSoftmax"),
    ("nll-after-softmax", _digits(("Softmax", {}), loss="NLLLoss"), "n3", None,
     "expects log-probabilities"),
    ("bce-without-sigmoid", _vector(("Linear", {"out_features": 1}), loss="BCELoss"), "n1", None,
     "end the network with Sigmoid"),
    ("output-width-vs-classes", chain([1, 8, 8], ("Flatten", {}), ("Linear", {"out_features": 7}),
                                      data=DIGITS, loss={"type": "CrossEntropyLoss"}),
     "n2", None, "width 7 but 'digits' needs 10 classes"),
    # No loss given: training uses the default, CrossEntropyLoss, so the width still matters.
    ("output-width-default-loss", chain([1, 8, 8], ("Flatten", {}), ("Linear", {"out_features": 2}),
                                        data=DIGITS), "n2", None, "needs 10 classes"),
    ("softmax-before-default-ce", _digits(("Softmax", {})), "n3", None, "remove this Softmax"),
    ("sigmoid-before-default-bce", chain([30], ("Linear", {"out_features": 1}), ("Sigmoid", {}),
                                         data={"dataset": "breast_cancer"}),
     "n2", None, "applies the sigmoid itself"),
    ("no-dataset-no-loss", chain([4], ("Linear", {"out_features": 2}), ("Softmax", {})),
     None, None, None),
    ("mse-on-class-labels", _digits(loss="MSELoss"), None, "loss",
     "MSELoss on class labels: 'digits' is a classification dataset"),
    ("l1-on-class-labels", _digits(loss="L1Loss"), None, "loss", "L1Loss on class labels"),
    ("binary-ce-width", chain([30], ("Linear", {"out_features": 1}),
                              data={"dataset": "breast_cancer"}, loss={"type": "CrossEntropyLoss"}),
     "n1", None, "set the last layer's size to 2"),
    ("binary-bce-width", chain([30], ("Linear", {"out_features": 2}),
                               data={"dataset": "breast_cancer"},
                               loss={"type": "BCEWithLogitsLoss"}),
     "n1", None, "set the last layer's size to 1"),
    ("linear-on-image", chain([1, 8, 8], ("Linear", {"out_features": 3})), "n1", None,
     "put a Flatten before 'n1' to use all 64 values"),
    ("dropout-at-output", _vector(("Linear", {"out_features": 3}), ("Dropout", {})), "n2", None,
     "straight from Dropout"),
    ("dropout2d-at-output", chain([2, 4, 4], ("Dropout2d", {})), "n1", None,
     "straight from Dropout2d"),
    ("batchnorm-at-output", _vector(("Linear", {"out_features": 3}), ("BatchNorm1d", {})), "n2",
     None, "straight from BatchNorm1d"),
    ("batchnorm2d-at-output", chain([2, 4, 4], ("BatchNorm2d", {})), "n1", None,
     "straight from BatchNorm2d"),
]


@pytest.mark.parametrize(("g", "node", "component", "contains"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_lint(g, node, component, contains):
    warnings = _warnings(g)
    if contains is None:
        assert warnings == []
        return
    matching = [w for w in warnings if w["node"] == node and w["component"] == component
                and contains in w["message"]]
    assert matching, warnings


@pytest.mark.parametrize(("g", "loss"), [
    (_digits(loss="CrossEntropyLoss"), "CrossEntropyLoss"),
    (_digits(("LogSoftmax", {}), loss="NLLLoss"), "NLLLoss"),
    (_vector(("Linear", {"out_features": 1}), loss="BCEWithLogitsLoss"), "BCEWithLogitsLoss"),
    (_vector(("Linear", {"out_features": 1}), ("Sigmoid", {}), loss="BCELoss"), "BCELoss"),
    (chain([1], ("Linear", {"out_features": 1}), data={"dataset": "sine"},
           loss={"type": "MSELoss"}), "MSELoss"),
    (chain([30], ("Linear", {"out_features": 1}), data={"dataset": "breast_cancer"},
           loss={"type": "BCEWithLogitsLoss"}), "BCEWithLogitsLoss"),
    (chain([1, 8, 8], ("Flatten", {}), ("Linear", {"out_features": 16}), ("Dropout", {}),
           ("Linear", {"out_features": 10}), data=DIGITS), None),
], ids=["ce", "nll", "bcewithlogits", "bce", "mse-regression", "binary", "dropout-inside"])
def test_the_right_way_has_no_warnings(g, loss):
    assert _warnings(g) == []


def test_linear_on_flattened_input_is_quiet_but_rank2_is_named():
    ok = chain([1, 8, 8], ("Flatten", {}), ("Linear", {"out_features": 3}))
    assert _warnings(ok) == []
    seq = chain([5, 4], ("Linear", {"out_features": 3}), ("Flatten", {}))
    (w,) = _warnings(seq)
    assert w["node"] == "n1" and "(N, 5, 4)" in w["message"]


def test_regression_dataset_with_class_loss_is_an_error():
    report = validate_graph(chain([1], ("Linear", {"out_features": 1}),
                                  data={"dataset": "sine"}, loss={"type": "CrossEntropyLoss"}))
    assert not report.valid
    assert any(e.component == "loss" and "regression" in e.message for e in report.errors)
