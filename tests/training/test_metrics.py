"""Metric helpers against hand-computed answers: coalescing, accuracy sums, MAE and R^2,
confusion counts, per-node norms and the boundary grid."""

from __future__ import annotations

import time

import pytest
import torch
from torch import nn

from server.training import metrics

CPU = torch.device("cpu")


def test_step_losses_coalesce_and_find_the_first_bad_step():
    losses = metrics.StepLosses(interval=0.05)
    for step, value in enumerate([1.0, 2.0, 3.0], start=10):
        losses.add(step, torch.tensor(value))
    assert not losses.due()  # just flushed (at creation): wait for the interval
    losses.last_flush -= 1
    assert losses.due()
    assert losses.flush() == (2.0, None)
    assert not losses.due()  # empty
    losses.add(13, torch.tensor(1.0))
    losses.add(14, torch.tensor(float("inf")))
    assert losses.flush()[1] == 14


def test_step_event_rate_is_bounded():
    losses, flushes = metrics.StepLosses(), 0
    start = time.perf_counter()
    step = 0
    while time.perf_counter() - start < 0.3:
        step += 1
        losses.add(step, torch.tensor(1.0))
        if losses.due():
            losses.flush()
            flushes += 1
    assert step > 100 and flushes <= 0.3 / metrics.STEP_INTERVAL + 1


def test_averages_weight_by_samples():
    avg = metrics.Averages(CPU)
    avg.add(torch.tensor(1.0), 10, torch.tensor(5))
    avg.add(torch.tensor(4.0), 30, torch.tensor(30))
    assert avg.result(True) == (pytest.approx(3.25), pytest.approx(35 / 40))
    assert metrics.Averages(CPU).result(True) == (None, None)


def test_regression_stats_match_the_textbook_formulas():
    out = torch.tensor([[1.0], [2.0], [4.0]])
    y = torch.tensor([[1.5], [2.0], [3.0]])
    stats = metrics.RegressionStats(CPU)
    stats.add(out[:2], y[:2])
    stats.add(out[2:], y[2:])
    mae, r2 = stats.result()
    assert mae == pytest.approx((0.5 + 0 + 1) / 3)
    ss_res, ss_tot = 0.25 + 0 + 1, ((y - y.mean()) ** 2).sum().item()
    assert r2 == pytest.approx(1 - ss_res / ss_tot)
    scaled = metrics.RegressionStats(CPU, scale=[10.0])
    scaled.add(out, y)
    assert scaled.result()[0] == pytest.approx(mae * 10) and scaled.result()[1] == pytest.approx(r2)


def test_predictions_and_probabilities_for_each_output_form():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0]])
    assert metrics.predictions(logits, "classification", False).tolist() == [0, 1]
    one = torch.tensor([[-1.0], [2.0]])
    assert metrics.predictions(one, "binary", False).tolist() == [0, 1]
    probs = torch.tensor([[0.4], [0.6]])
    assert metrics.predictions(probs, "binary", True).tolist() == [0, 1]
    p = metrics.class_probabilities(one, probabilities=False)
    assert p.shape == (2, 2) and torch.allclose(p.sum(1), torch.ones(2))
    assert metrics.class_probabilities(logits, False).sum(1).tolist() == pytest.approx([1, 1])


def test_confusion_counts_true_rows_and_predicted_columns():
    conf = metrics.Confusion(3, CPU)
    conf.add(torch.tensor([0, 1, 2, 2]), torch.tensor([0, 2, 2, 1]))
    conf.add(torch.tensor([5]), torch.tensor([0]))  # an out-of-range label is not counted
    assert conf.matrix() == [[1, 0, 0], [0, 0, 1], [0, 1, 1]]


def test_layer_norms_are_keyed_by_node_id():
    module = nn.Sequential()
    module.add_module("lin", nn.Linear(2, 2))
    module.add_module("act", nn.ReLU())
    with torch.no_grad():
        module.lin.weight.fill_(1.0)
        module.lin.bias.fill_(0.0)
    attrs = {"dense-1": "lin", "relu": "act"}
    assert metrics.layer_norms(module, attrs, grads=False) == {"dense-1": pytest.approx(2.0)}
    assert metrics.layer_norms(module, attrs, grads=True) == {}  # no backward yet
    module(torch.ones(1, 2)).sum().backward()
    assert set(metrics.layer_norms(module, attrs, grads=True)) == {"dense-1"}


def test_boundary_grid_covers_the_points_with_a_margin():
    pts = torch.tensor([[0.0, -1.0], [2.0, 1.0]])
    xs, ys, grid = metrics.boundary_grid(pts, size=5, margin=0.1)
    assert xs[0] == pytest.approx(-0.2) and xs[-1] == pytest.approx(2.2)
    assert ys[0] == pytest.approx(-1.2) and ys[-1] == pytest.approx(1.2)
    assert grid.shape == (25, 2)
    assert grid[1].tolist() == pytest.approx([xs[1], ys[0]])  # x varies fastest
    assert metrics.grid_values(torch.tensor([[0.123456, float("nan")]])) == [[0.1235, None]]
