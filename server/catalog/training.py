"""Losses, optimizers and learning-rate schedulers, as catalogue data.

Like layers, each is a PyTorch class name with its params and a sentence for
learners. `target` tells the trainer and the exported script what labels a loss
wants: class indices, floats shaped like the output, or binary 0/1 floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .params import REQUIRED, Param


@dataclass(frozen=True)
class LossSpec:
    type: str
    description: str
    target: str  # "class" | "float" | "binary"
    params: tuple[Param, ...] = ()
    # What the model's output must be: raw scores, or what `pairs_with` produces.
    expects: str = "logits"  # "logits" | "probabilities" | "log_probabilities" | "values"
    applies: str | None = None  # what the loss applies to logits itself, for lints
    pairs_with: str | None = None  # the layer that should end the network
    category: str = "loss"


@dataclass(frozen=True)
class OptimizerSpec:
    type: str
    description: str
    params: tuple[Param, ...]
    category: str = "optimizer"
    # Tensors of state kept per weight (Adam: two moments), plus one more when the
    # optimizer is given a non-zero momentum: what memory estimates count.
    state_tensors: int = 0


@dataclass(frozen=True)
class SchedulerSpec:
    type: str
    description: str
    params: tuple[Param, ...]
    step: str  # "epoch" | "batch" | "plateau": when the trainer calls scheduler.step()
    # Params that follow from the run when omitted: name -> "epochs" (the run's
    # epochs) or "steps" (epochs x batches per epoch).
    run_length: tuple[tuple[str, str], ...] = ()
    category: str = "scheduler"


def _lr(default: float) -> Param:
    return Param("lr", "float", default, "Learning rate: the size of each update step",
                 min=0, min_exclusive=True, max=10)


WEIGHT_DECAY = Param("weight_decay", "float", 0.0, "L2 penalty pulling weights towards zero",
                     min=0)
REGRESSION_NOTE = "Regression loss."

LOSSES: dict[str, LossSpec] = {s.type: s for s in [
    LossSpec("CrossEntropyLoss", "Classification loss on raw scores (logits); applies "
             "log-softmax itself.", "class",
             (Param("label_smoothing", "float", 0.0, "Spread some target probability over "
                    "all classes", min=0, max=1),), applies="log-softmax"),
    LossSpec("NLLLoss", "Negative log-likelihood; expects log-probabilities from LogSoftmax.",
             "class", expects="log_probabilities", pairs_with="LogSoftmax"),
    LossSpec("BCEWithLogitsLoss", "Binary classification loss on one raw score; applies the "
             "sigmoid itself.", "binary", applies="the sigmoid"),
    LossSpec("BCELoss", "Binary cross-entropy on probabilities from a Sigmoid.", "binary",
             expects="probabilities", pairs_with="Sigmoid"),
    LossSpec("MSELoss", "Mean squared error: the classic regression loss.", "float",
             expects="values"),
    LossSpec("L1Loss", "Mean absolute error: regression loss less swayed by outliers.", "float",
             expects="values"),
    LossSpec("SmoothL1Loss", "Squared error near zero, absolute error further out.", "float",
             (Param("beta", "float", 1.0, "Where it switches from squared to absolute",
                    min=0),), expects="values"),
    LossSpec("HuberLoss", "Like SmoothL1Loss, scaled by delta: robust regression.", "float",
             (Param("delta", "float", 1.0, "Where it switches from squared to absolute",
                    min=0, min_exclusive=True),), expects="values"),
]}

OPTIMIZERS: dict[str, OptimizerSpec] = {s.type: s for s in [
    OptimizerSpec("SGD", "Stochastic gradient descent, optionally with momentum.", (
        _lr(0.01),
        Param("momentum", "float", 0.0, "Keeps a running direction of travel", min=0, max=1),
        Param("nesterov", "bool", False, "Look-ahead momentum (needs momentum > 0)"),
        WEIGHT_DECAY,
    )),
    OptimizerSpec("Adam", "Adaptive moment estimation: a reliable default.", (
        _lr(0.001),
        Param("betas", "float_pair", (0.9, 0.999), "Decay rates of the moment estimates",
              min=0, max=0.9999999),
        Param("eps", "float", 1e-8, "Added for numerical stability", min=0, min_exclusive=True),
        WEIGHT_DECAY,
        Param("amsgrad", "bool", False, "Use the AMSGrad variant"),
    ), state_tensors=2),
    OptimizerSpec("AdamW", "Adam with decoupled weight decay.", (
        _lr(0.001),
        Param("betas", "float_pair", (0.9, 0.999), "Decay rates of the moment estimates",
              min=0, max=0.9999999),
        Param("eps", "float", 1e-8, "Added for numerical stability", min=0, min_exclusive=True),
        Param("weight_decay", "float", 0.01, "Decoupled weight decay", min=0),
    ), state_tensors=2),
    OptimizerSpec("RMSprop", "Divides each step by a running average of recent gradient "
                  "sizes.", (
        _lr(0.01),
        Param("alpha", "float", 0.99, "Smoothing constant", min=0, max=1),
        Param("momentum", "float", 0.0, "Momentum factor", min=0, max=1),
        WEIGHT_DECAY,
    ), state_tensors=1),
    OptimizerSpec("Adagrad", "Per-parameter rates that shrink for often-updated weights.", (
        _lr(0.01), WEIGHT_DECAY,
    ), state_tensors=1),
]}

SCHEDULERS: dict[str, SchedulerSpec] = {s.type: s for s in [
    SchedulerSpec("StepLR", "Multiplies the learning rate by gamma every step_size epochs.", (
        Param("step_size", "int", 10, "Epochs between decays", min=1),
        Param("gamma", "float", 0.1, "Decay factor", min=0, min_exclusive=True, max=1),
    ), "epoch"),
    SchedulerSpec("ExponentialLR", "Multiplies the learning rate by gamma every epoch.", (
        Param("gamma", "float", 0.95, "Decay factor", min=0, min_exclusive=True, max=1),
    ), "epoch"),
    SchedulerSpec("CosineAnnealingLR", "Lowers the learning rate along a cosine curve.", (
        Param("T_max", "int", None, "Epochs to anneal over (inferred: all epochs)", min=1,
              inferred=True),
        Param("eta_min", "float", 0.0, "Lowest learning rate", min=0),
    ), "epoch", run_length=(("T_max", "epochs"),)),
    SchedulerSpec("OneCycleLR", "Warms the learning rate up to max_lr, then anneals it; "
                  "steps every batch.", (
        Param("max_lr", "float", 0.01, "Peak learning rate", min=0, min_exclusive=True, max=10),
        Param("total_steps", "int", None, "Batches in the whole run (inferred)", min=1,
              inferred=True),
        Param("pct_start", "float", 0.3, "Fraction of the run spent warming up",
              min=0, min_exclusive=True, max=1),
        Param("anneal_strategy", "choice", "cos", "Shape of the decay",
              choices=("cos", "linear")),
    ), "batch", run_length=(("total_steps", "steps"),)),
    SchedulerSpec("ReduceLROnPlateau", "Lowers the learning rate when validation loss stops "
                  "improving.", (
        Param("factor", "float", 0.1, "Multiply the rate by this", min=0, min_exclusive=True,
              max=0.9999),
        Param("patience", "int", 10, "Epochs without improvement before lowering", min=0),
        Param("threshold", "float", 1e-4, "What counts as an improvement", min=0),
        Param("min_lr", "float", 0.0, "Lowest learning rate", min=0),
    ), "plateau"),
]}


def resolve_scheduler_params(spec: SchedulerSpec, params: dict[str, Any], *, epochs: int,
                             steps_per_epoch: int) -> dict[str, Any]:
    """Fill the params that follow from the run's length."""
    length = {"epochs": epochs, "steps": epochs * steps_per_epoch}
    out = dict(params)
    for name, unit in spec.run_length:
        if out.get(name) is None:
            out[name] = length[unit]
    return {k: v for k, v in out.items() if v is not REQUIRED}
