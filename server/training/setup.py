"""Everything a run needs before its first step: device, data, model, loss,
optimizer and scheduler, each built from the graph and the catalogue.

Loss, optimizer and scheduler are catalogue types instantiated by name from
`torch.nn` / `torch.optim`; the compiler's validation has checked their params
against the catalogue and `server.recipe` fills the defaults, so a graph can
only ever construct what the catalogue lists.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from server.catalog import LOSSES, OPTIMIZERS, SCHEDULERS, resolve_scheduler_params
from server.graph import Graph, TrainingConfig
from server.recipe import recipe
from server.weights import WeightsError, apply_start_weights, trainable

from .data import (
    LoaderBatches,
    TensorBatches,
    first_inputs,
    fits_on_device,
    in_memory_batches,
    make_target_fn,
    model_input,
)
from .device import amp_dtype, cuda_bf16_supported, resolve_device
from .errors import TrainingError
from .outputs import OutputLoss, pick, token_layout

Loader = Callable[..., Any]
EVAL_BATCH = 1024


@dataclass
class Run:
    """A run ready to train: the loop reads everything from here."""

    graph: Graph
    config: TrainingConfig
    device: torch.device
    info: Any  # server.datasets.DatasetInfo
    model: nn.Module
    node_attrs: dict[str, str]
    loss_fn: OutputLoss  # picks the output the loss reads; `.scores(out)` for the metrics
    probabilities: bool  # a binary loss fed probabilities (not logits) by the model
    optimizer: torch.optim.Optimizer
    scheduler: Any
    scheduler_step: str | None  # "epoch" | "batch" | "plateau"
    train: TensorBatches | LoaderBatches
    val: TensorBatches | LoaderBatches | None
    points: torch.Tensor | None  # 2-D inputs for the decision-boundary grid
    target_std: list[float] | None  # regression targets were divided by this: undo for MAE
    amp: bool
    amp_dtype: torch.dtype | None  # bf16 or fp16 when amp, see device.amp_dtype
    scaler: torch.amp.GradScaler  # a no-op unless amp: one per run, its scale carries over
    perplexity: bool = False  # per-token cross-entropy: exp(loss) is reported as perplexity
    input_count: int = 1  # tensors per sample, stacked in dim 1 of x, one per Input
    vocab: list[str] | None = None  # a token dataset's vocabulary, saved with checkpoints
    channels_last: bool = False  # model and image batches in the channels_last format
    # The model's torch.compile wrapper (same parameters) once compiled: what training and
    # validation call; checkpoints, metrics and the boundary use `model`.
    compiled: Callable[..., Any] | None = None
    notes: list[str] = field(default_factory=list)  # options ignored, and why: `note` events

    def forward(self, x: torch.Tensor) -> Any:
        """The model on a batch: the Inputs take x's dim-1 slices in order when several."""
        call = self.model if self.compiled is None else self.compiled
        if self.input_count > 1:
            return call(*x.unbind(1))
        return call(x)

    @property
    def classify(self) -> bool:
        """Whether the task has classes: accuracy and a confusion matrix are reported."""
        return self.info.task in ("classification", "binary")


def _has_rows(x: Any) -> bool:
    return x is not None and len(x) > 0


def build_run(graph: Graph, load: Loader | None = None,
              compile_fn: Callable[..., nn.Module] | None = None) -> Run:
    """Set a run up; raise TrainingError (or the layer's own error) when it cannot train."""
    config = graph.training or TrainingConfig()
    device = resolve_device(config.device)  # before anything slow: fail fast
    if graph.data is None:
        raise TrainingError("the graph has no data: choose a dataset before training")
    seed = config.seed
    # The compiler validates the graph first (InvalidGraph names the node at fault),
    # so a broken graph fails before any data is read; it also seeds the weights.
    if compile_fn is None:
        from server.compiler import compile_graph as compile_fn
    model = compile_fn(graph, seed=seed)
    inputs = len(getattr(model, "input_ids", ())) or 1
    if inputs > 1:
        from server.datasets import describe_dataset

        given = describe_dataset(graph.data.dataset, graph.data.params).input_count
        if given != inputs:  # said before any data is read
            per = "1 tensor" if given == 1 else f"{given} tensors"
            raise TrainingError(
                f"this graph has {inputs} Inputs, but {graph.data.dataset!r} gives {per} per "
                f"sample (one per Input): use a dataset with {inputs} (e.g. anagrams gives 2), "
                "or export the module and feed it in your own code")
    node_attrs = dict(getattr(model, "node_attrs", {}))
    try:  # a relative path was made absolute by whoever read the graph file
        apply_start_weights(model, graph, node_attrs=node_attrs)
    except WeightsError as exc:
        raise TrainingError(str(exc)) from None
    if load is None:
        from server.datasets import load_dataset as load
    data = load(graph.data.dataset, graph.data.params, val_fraction=graph.data.val_fraction,
                seed=seed)
    info = data.info
    if seed is not None:
        torch.manual_seed(seed)  # dropout masks and anything else drawn from the global RNG
    # Loss and optimizer may be left out of a graph: the recipe fills the defaults.
    plan = recipe(graph, info.task)
    loss_spec, opt_spec = LOSSES[plan.loss.type], OPTIMIZERS[plan.optimizer.type]
    model.to(device)

    # One forward pass in eval mode (no dropout, no batch-norm updates) tells the
    # output's shape, which decides how labels become targets.
    index = getattr(plan.loss, "output", None) or 0  # several outputs: the loss reads this
    model.eval()
    with torch.no_grad():
        probe = model_input(first_inputs(data)).to(device)
        out = model(*probe.unbind(1)) if inputs > 1 else model(probe)
        out_tail = tuple(pick(out, index).shape[1:])
    model.train()
    layout, token_classes = None, None
    if getattr(info, "per_token", False) and loss_spec.target == "class":
        token_classes = int(info.num_classes)
        layout = token_layout(out_tail, int(info.target_shape[0]), token_classes)
    prepare = make_target_fn(loss_spec.target, out_tail, info.task, token_classes)

    loss_params = plan.loss_params()
    loss_fn = OutputLoss(getattr(nn, loss_spec.type)(**loss_params), index, layout)
    # exp(mean token cross-entropy) is the perplexity; label smoothing would bend it.
    perplexity = layout is not None and loss_spec.type in ("CrossEntropyLoss", "NLLLoss") \
        and not loss_params.get("label_smoothing")
    probabilities = loss_spec.expects == "probabilities"
    params = trainable(model)
    if not params:
        raise TrainingError("every layer with weights is frozen: unfreeze one to train")
    optimizer = getattr(torch.optim, opt_spec.type)(params, **plan.optimizer_params())

    gen = torch.Generator()
    if seed is not None:
        gen.manual_seed(seed)
    else:
        gen.seed()
    bs, shuffle = graph.data.batch_size, graph.data.shuffle
    notes: list[str] = []
    sample_shape = list(info.input_shape or ())
    channels_last = config.channels_last and len(sample_shape) == 3
    if config.channels_last and not channels_last:
        notes.append(f"channels_last ignored: it applies to image inputs (N, C, H, W), and "
                     f"this dataset's samples have shape {sample_shape}")
    fmt = torch.channels_last if channels_last else None
    if channels_last:
        to_channels_last(model)
    points = None
    if getattr(data, "x_train", None) is not None:
        width = math.prod(out_tail) if out_tail else 1
        resident = fits_on_device(_resident_bytes(data, width), device)
        if not resident:
            notes.append("the dataset does not fit in half the free GPU memory: batches are "
                         "copied from pinned host memory instead of staying on the GPU")
        train = in_memory_batches(model_input(data.x_train), data.y_train, prepare, bs, shuffle,
                                  device, gen, resident=resident, memory_format=fmt)
        val = in_memory_batches(model_input(data.x_val), data.y_val, prepare, max(bs, EVAL_BATCH),
                                False, device, resident=resident, memory_format=fmt) \
            if _has_rows(data.x_val) else None
        if tuple(info.input_shape) == (2,) and getattr(info, "input_dtype", "float") == "float":
            points = torch.cat([data.x_train, data.x_val]) if val is not None else data.x_train
    else:
        train = LoaderBatches(data.train_set, prepare, bs, shuffle, device, gen,
                              memory_format=fmt)
        val = LoaderBatches(data.val_set, prepare, max(bs, EVAL_BATCH), False, device,
                            memory_format=fmt) if _has_rows(data.val_set) else None
    if len(train) == 0:
        raise TrainingError("the training split is empty: lower val_fraction or add samples")

    scheduler, step_kind = None, None
    if plan.scheduler is not None:
        sched_spec = SCHEDULERS[plan.scheduler.type]
        params = resolve_scheduler_params(sched_spec, plan.scheduler_params(),
                                          epochs=config.epochs, steps_per_epoch=len(train))
        scheduler = getattr(torch.optim.lr_scheduler, sched_spec.type)(optimizer, **params)
        step_kind = sched_spec.step

    dtype = amp_dtype(device.type, cuda_bf16_supported(device)) if config.amp else None
    use_amp = dtype is not None  # mixed precision is CUDA-only here
    tune_backends(device)
    return Run(graph=graph, config=config, device=device, info=info, model=model,
               node_attrs=node_attrs, loss_fn=loss_fn, probabilities=probabilities,
               optimizer=optimizer, scheduler=scheduler, scheduler_step=step_kind,
               train=train, val=val, points=points,
               target_std=getattr(data, "target_std", None),
               amp=use_amp, amp_dtype=dtype,
               # Loss scaling only for fp16: bf16 has float32's range.
               scaler=torch.amp.GradScaler("cuda", enabled=dtype == torch.float16),
               perplexity=perplexity, vocab=getattr(data, "vocab", None), input_count=inputs,
               channels_last=channels_last, notes=notes)


def tune_backends(device: torch.device) -> None:
    """Let cuDNN time its convolution algorithms once and keep the fastest (CUDA only).

    A run's batch shapes are fixed (one batch size, a shorter last batch), so the
    search is paid once or twice per run; elsewhere the flag is left as it is.
    """
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True


def to_channels_last(model: nn.Module) -> None:
    """Put the 4-D parameters and buffers (conv weights) in channels_last, in place.

    `Module.to(memory_format=...)` would also try 5-D tensors (Conv3d), which
    channels_last cannot hold; those, like every other tensor, stay as they are.
    """
    for t in [*model.parameters(), *model.buffers()]:
        if t.dim() == 4:
            t.data = t.data.contiguous(memory_format=torch.channels_last)


def _resident_bytes(data: Any, width: int) -> int:
    """Bytes the in-memory splits take on the device: inputs (float32), labels, targets."""
    total = 0
    for x, y in ((data.x_train, data.y_train), (data.x_val, data.y_val)):
        if x is None:
            continue
        n = x.shape[0]
        total += x.numel() * 4 + y.numel() * y.element_size() + n * max(width * 4, 8)
    return total
