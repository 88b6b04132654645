"""The pre-flight doctor: cheap experiments that find why a network will not learn, before
the user waits for a whole run.

Four checks, each on the graph's own data and recipe (the run the trainer would
build, same seed):

- **learning-rate range test**: one short pass with the learning rate growing
  exponentially from 1e-6 to 10, the smoothed loss recorded against it; the
  suggested lr is where the loss falls fastest (a tenth of where it is lowest
  when that is clearer), and an lr far above it is a finding;
- **overfit one batch**: a fresh copy trains on a single batch; a network that
  cannot drive that loss down has a bug, and the finding says which likely one;
- **initialisation**: one forward pass at init, activation std per layer,
  the share of dead ReLU units and of saturated Sigmoid/Tanh outputs, and the
  gradient reaching the first layer against the last (vanishing or exploding);
- the validator's own errors and warnings.

Every finding names the node (or component) and the fix.
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from server.catalog import LAYERS
from server.nesting import layer_parameters
from server.validation import analyze_graph

LR_START, LR_END, LR_STEPS = 1e-6, 10.0, 100
OVERFIT_STEPS = 150


def _spec(node_type: str | None) -> Any:
    """The catalogue entry of a node type: what each check reads (never a layer name)."""
    return LAYERS.get(node_type or "")


@dataclass
class Finding:
    kind: str  # lr_too_high | lr_too_low | cannot_fit | dead_relu | saturation | vanishing |
    #            exploding | output_range | lint | error
    message: str
    node: str | None = None
    component: str | None = None
    fix: str = ""
    value: float | None = None  # e.g. the suggested lr, for the page's "apply" button


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    lr_curve: list[tuple[float, float]] = field(default_factory=list)  # (lr, smoothed loss)
    suggested_lr: float | None = None
    current_lr: float | None = None
    overfit: dict[str, Any] = field(default_factory=dict)
    init: dict[str, dict[str, float]] = field(default_factory=dict)  # node -> stats

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def diagnose(graph: Any, lr_steps: int = LR_STEPS, overfit_steps: int = OVERFIT_STEPS) -> Report:
    """Run every check on `graph` (it must have `data`); errors stop at the static lints."""
    from server.training.setup import build_run

    report = Report()
    analysis = analyze_graph(graph)
    for issue in analysis.validation.all_errors():
        report.findings.append(Finding("error", issue.message, issue.node, issue.component,
                                       "fix this first"))
    for issue in analysis.validation.all_warnings():
        report.findings.append(Finding("lint", issue.message, issue.node, issue.component))
    if not analysis.valid:
        return report
    run = build_run(analysis.graph)
    types = {n.id: n.type for n in analysis.graph.nodes}
    report.current_lr = float(run.optimizer.param_groups[0]["lr"])
    start_state = copy.deepcopy(run.model.state_dict())
    batch = next(iter(run.train))

    _init_checks(run, batch, types, report)
    _output_range(run, analysis, types, report)
    run.model.load_state_dict(start_state)
    _lr_range(run, lr_steps, report)
    run.model.load_state_dict(start_state)
    _overfit(run, batch, overfit_steps, types, analysis, report)
    return report


# -- the checks ----------------------------------------------------------------------


def _loss(run: Any, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return _loss_of(run, run.model(x), target)


def _loss_of(run: Any, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if run.probabilities:  # a binary loss fed probabilities: keep log() finite
        out = out.clamp(1e-7, 1 - 1e-7)
    return run.loss_fn(out, target)


def _step(run: Any, optimizer: torch.optim.Optimizer, x: torch.Tensor,
          target: torch.Tensor) -> float | None:
    """One training step; its loss, or None once the loss is no longer finite."""
    optimizer.zero_grad(set_to_none=True)
    loss = _loss(run, x, target)
    if not torch.isfinite(loss):
        return None
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def _fresh_optimizer(run: Any, lr: float) -> torch.optim.Optimizer:
    kind = type(run.optimizer)
    defaults = {k: v for k, v in run.optimizer.defaults.items()
                if k in ("momentum", "betas", "eps", "weight_decay", "nesterov", "alpha")}
    params = [p for p in run.model.parameters() if p.requires_grad]
    return kind(params, lr=lr, **defaults)


def _lr_range(run: Any, steps: int, report: Report) -> None:
    model = run.model
    model.train()
    optimizer = _fresh_optimizer(run, LR_START)
    factor = (LR_END / LR_START) ** (1 / max(1, steps - 1))
    smooth, best, curve = None, math.inf, []
    batches = iter(run.train)
    for i in range(steps):
        try:
            x, _, target = next(batches)
        except StopIteration:
            batches = iter(run.train)
            x, _, target = next(batches)
        lr = LR_START * factor ** i
        for group in optimizer.param_groups:
            group["lr"] = lr
        value = _step(run, optimizer, x, target)
        if value is None:
            break
        smooth = value if smooth is None else 0.8 * smooth + 0.2 * value
        curve.append((lr, smooth))
        best = min(best, smooth)
        if i > 5 and smooth > 4 * best:
            break  # the loss has blown up: the rest of the range says nothing more
    report.lr_curve = curve
    if len(curve) < 10:
        return
    # Steepest fall of the smoothed loss (per decade of lr), after the first few points.
    slopes = [(curve[i + 1][1] - curve[i][1]) / math.log10(curve[i + 1][0] / curve[i][0])
              for i in range(3, len(curve) - 1)]
    steepest = curve[3 + min(range(len(slopes)), key=slopes.__getitem__)][0]
    lowest = min(curve, key=lambda p: p[1])[0]
    suggested = min(steepest, lowest / 10)
    report.suggested_lr = float(f"{suggested:.1g}")
    if report.current_lr > 10 * suggested:
        report.findings.append(Finding(
            "lr_too_high",
            f"the learning rate {report.current_lr:g} is {report.current_lr / suggested:.0f}x "
            f"the range test's suggestion {report.suggested_lr:g}: the loss will jump around "
            f"or diverge", component="optimizer",
            fix=f"set lr to {report.suggested_lr:g}", value=report.suggested_lr))
    elif report.current_lr < suggested / 30:
        report.findings.append(Finding(
            "lr_too_low",
            f"the learning rate {report.current_lr:g} is far below the range test's "
            f"suggestion {report.suggested_lr:g}: training will crawl", component="optimizer",
            fix=f"set lr to {report.suggested_lr:g}", value=report.suggested_lr))


def _overfit(run: Any, batch: tuple, steps: int, types: dict[str, str], analysis: Any,
             report: Report) -> None:
    x, _, target = batch
    model = run.model
    model.train()
    lr = report.suggested_lr or report.current_lr
    optimizer = _fresh_optimizer(run, lr)
    first = last = None
    for _ in range(steps):
        value = _step(run, optimizer, x, target)
        if value is None:
            break
        last = value
        first = last if first is None else first
    report.overfit = {"steps": steps, "lr": lr, "first_loss": first, "last_loss": last}
    if first is None or last is None:
        return
    fitted = last < 0.1 * first or last < 0.05
    report.overfit["fitted"] = fitted
    if fitted:
        return
    out = analysis.output_id
    cause = ("its output comes from a layer that cannot reach every target"
             if getattr(_spec(types.get(out)), "never_negative", False)
             and run.info.task == "regression"
             else "check the output layer against the loss, the learning rate and the data")
    report.findings.append(Finding(
        "cannot_fit", f"it cannot fit a single batch: the loss went from {first:.3g} to "
        f"{last:.3g} in {steps} steps; {cause}", node=out,
        fix="a network that cannot memorise one batch has a bug: fix the flagged layer "
            "first"))


def _init_checks(run: Any, batch: tuple, types: dict[str, str], report: Report) -> None:
    x, _, target = batch
    model = run.model
    model.train()
    model.zero_grad(set_to_none=True)
    values = model.forward_all(x, keep_grad=True)
    _loss_of(run, values[model.output_id], target).backward()
    for nid, v in values.items():
        t = v.detach().float()
        stats = {"std": float(t.std()) if t.numel() > 1 else 0.0}
        kind = types.get(nid)
        spec = _spec(kind)
        if spec is not None and spec.can_die and t.dim() >= 2:
            dead = float((t.reshape(t.shape[0], -1) <= 0).all(dim=0).float().mean())
            stats["dead"] = dead
            if dead > 0.5:
                report.findings.append(Finding(
                    "dead_relu", f"{dead:.0%} of this {kind}'s units are zero for every sample "
                    f"of a batch at initialisation", node=nid,
                    fix="lower the learning rate, use LeakyReLU or GELU, or add BatchNorm "
                        "before it"))
        if spec is not None and spec.saturates_at is not None:
            lo, hi = spec.saturates_at
            share = float(((t <= lo) | (t >= hi)).float().mean())
            stats["saturated"] = share
            if share > 0.3:
                report.findings.append(Finding(
                    "saturation", f"{share:.0%} of this {kind}'s outputs are saturated, where "
                    f"its gradient is almost zero", node=nid,
                    fix=f"put a normalisation before it or use ReLU instead of {kind}"))
        if v.grad is not None:
            stats["grad"] = float(v.grad.norm())
        report.init[nid] = stats
    _gradient_flow(model, types, report)
    model.zero_grad(set_to_none=True)


def _gradient_flow(model: Any, types: dict[str, str], report: Report) -> None:
    """Weight-gradient norms per layer, first against last: vanishing or exploding."""
    norms = []
    for nid, attr in model.node_attrs.items():
        grads = [p.grad for p in layer_parameters(model, attr) if p.grad is not None]
        if grads:
            norms.append((nid, float(torch.sqrt(sum((g ** 2).sum() for g in grads)))))
    if len(norms) < 3:
        return
    (first, g_first), (_, g_last) = norms[0], norms[-1]
    if g_last > 0 and g_first / g_last < 1e-3:
        squashers = [t for t in types.values()
                     if getattr(_spec(t), "saturates_at", None) is not None]
        why = f" through {len(squashers)} {squashers[0]} layers" if squashers else ""
        report.findings.append(Finding(
            "vanishing", f"the gradient vanishes{why}: the first layer gets "
            f"{g_first / g_last:.1e} of the last layer's", node=first,
            fix="use ReLU (or GELU) between layers, add BatchNorm/LayerNorm, or use fewer "
                "layers"))
    elif g_last > 0 and g_first / g_last > 1e3:
        report.findings.append(Finding(
            "exploding", f"the gradient grows {g_first / g_last:.1e}x from the last layer to "
            f"the first", node=first, fix="add normalisation or lower the learning rate"))


def _output_range(run: Any, analysis: Any, types: dict[str, str], report: Report) -> None:
    out = analysis.output_id
    if run.info.task != "regression" or not getattr(_spec(types.get(out)), "never_negative",
                                                    False):
        return
    target = getattr(run.train, "target", None)
    if target is not None and float(target.min()) < 0:
        report.findings.append(Finding(
            "output_range", f"the output comes from {types[out]}, which is never negative, "
            f"but {float((target < 0).float().mean()):.0%} of the (standardised) targets are",
            node=out, fix=f"remove this {types[out]}: end a regression with Linear"))
