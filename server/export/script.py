"""The `script` export: the module plus data, loss, optimizer and the training loop.

It reads like pytorch/examples' `mnist/main.py`: `Net`, `train()`, `test()`,
`main()` with argparse, `--epochs`, `--dry-run` (one batch) and `--save-model`.
The same file runs unchanged under `torchrun --nproc_per_node N`: it then joins
the process group torchrun describes in the environment (gloo on CPU, NCCL on
CUDA), wraps the model in DistributedDataParallel, gives each process its share
of every epoch with a DistributedSampler, sums the validation metrics over the
processes and logs and saves on rank 0 only. `--batch-size` stays the global
batch, so N processes take the same optimizer steps as one.
The data comes from `server.datasets.script_source`, the same real loader and
split the in-app trainer uses, so the script reproduces what the app trained.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn

from server.catalog import LOSSES, OPTIMIZERS, REQUIRED, SCHEDULERS
from server.naming import class_name, identifier
from server.recipe import Recipe, RecipeError, recipe
from server.validation import Analysis

from .module import _literal, class_source, header, layer_imports, same_value, torch_default

I = "    "  # noqa: E741 - one indent, used in long templates


def script_source(analysis: Analysis) -> str:
    from server.datasets import script_source as dataset_source

    g = analysis.graph
    ds = analysis.dataset
    if ds is None:
        raise RecipeError("script export needs `data`: pick a dataset for the graph")
    if len(analysis.input_ids) > 1 or analysis.output_tuple:
        # The data loaders feed one tensor and the loss reads one: export the module.
        raise RecipeError("the training script supports one Input and one output for now; "
                          "export the module instead")
    r = recipe(g, ds.task)
    data_imports, data_body = _split_imports(
        dataset_source(r.data.dataset, r.data.params, path_argument=True))
    imports = _import_block(["import argparse", "import os", "import torch",
                             "import torch.distributed as dist", "from torch import nn",
                             "from torch.nn.parallel import DistributedDataParallel",
                             "from torch.utils.data import DataLoader, DistributedSampler, Subset",
                             *data_imports, *layer_imports(analysis)])
    kind = LOSSES[r.loss.type].target
    one_hot = kind == "float" and ds.task != "regression" and \
        analysis.shapes[analysis.output_id][-1] > 1
    parts = [
        header(analysis, f"a training script for {identifier(ds.name)}").rstrip("\n").replace(
            '\n"""', _usage(g.name)),
        "\n".join(imports),
        "",
        class_source(analysis),
        "",
        data_body.strip("\n"),
        "",
        _prepare_target(kind, one_hot),
        _pick_device(),
        _distributed(),
        _train(r),
        _test(kind, r),
        _main(analysis, r),
        'if __name__ == "__main__":\n' + I + "main()",
    ]
    return "\n\n".join(p for p in parts if p is not None).replace("\n\n\n\n", "\n\n\n") + "\n"


def _usage(name: str) -> str:
    file = identifier(name, "model")
    return (f"\nRun it with `python {file}.py` (add `--dry-run` to check it in seconds,\n"
            f"`--help` for the options).\n\"\"\"")


def _import_block(lines: list[str]) -> list[str]:
    """Imports deduplicated, standard library first, each group sorted by module."""
    def module(line: str) -> str:
        return line.split()[1]

    merged: dict[str, set[str]] = {}
    plain = set()
    for line in lines:
        if line.startswith("from ") and " as " not in line:
            names = line.split(" import ", 1)[1]
            merged.setdefault(module(line), set()).update(n.strip() for n in names.split(","))
        else:
            plain.add(line)
    plain |= {f"from {m} import {', '.join(sorted(ns))}" for m, ns in merged.items()}
    unique = sorted(plain, key=lambda line: (module(line), line.startswith("from")))
    stdlib = [x for x in unique if module(x).split(".")[0] in sys.stdlib_module_names]
    others = [x for x in unique if x not in stdlib]
    return stdlib + ([""] if stdlib and others else []) + others


def _split_imports(source: str) -> tuple[list[str], str]:
    """Hoist the dataset snippet's leading import lines into the script's import block."""
    lines = source.strip("\n").splitlines()
    imports, kept, i = [], [], 0
    leading = ("import ", "from ", "#")
    while i < len(lines) and (not lines[i].strip() or lines[i].startswith(leading)):
        (imports if lines[i].startswith(("import ", "from ")) else kept).append(lines[i])
        i += 1
    body = [line for line in kept if line.strip()] + [""] * 2 + lines[i:]
    return imports, "\n".join(body)


def _prepare_target(kind: str, one_hot: bool) -> str:
    if kind == "class":
        why, body = "class indices, as the loader gives them", "return target"
    elif one_hot:
        why, body = ("one-hot floats", "return nn.functional.one_hot(target, output.size(1))"
                     ".float()")
    else:
        why, body = "floats shaped like the output", "return target.float().view_as(output)"
    return (f"def prepare_target(target, output):\n"
            f'{I}"""The loss wants {why}."""\n{I}{body}\n')


def _pick_device() -> str:
    return (f"def pick_device(name):\n"
            f'{I}if name != "auto":\n{I * 2}return torch.device(name)\n'
            f'{I}if torch.cuda.is_available():\n{I * 2}return torch.device("cuda")\n'
            f'{I}if torch.backends.mps.is_available():\n{I * 2}return torch.device("mps")\n'
            f'{I}return torch.device("cpu")\n')


def _distributed() -> str:
    return (f"def init_distributed(device):\n"
            f'{I}"""Join the process group when started by torchrun; return (device, rank, '
            f'world_size).\n\n'
            f"{I}torchrun sets RANK, LOCAL_RANK and WORLD_SIZE; a plain `python` run is one "
            f"process.\n{I}\"\"\"\n"
            f'{I}world_size = int(os.environ.get("WORLD_SIZE", "1"))\n'
            f"{I}if world_size == 1:\n{I * 2}return device, 0, 1\n"
            f'{I}if device.type == "cuda":  # one GPU per process\n'
            f'{I * 2}device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))\n'
            f"{I * 2}torch.cuda.set_device(device)\n"
            f'{I}dist.init_process_group("nccl" if device.type == "cuda" else "gloo")\n'
            f"{I}return device, dist.get_rank(), world_size\n\n\n"
            f"def is_main_process():\n"
            f'{I}"""Only rank 0 logs and saves (the only process, when not distributed)."""\n'
            f"{I}return not dist.is_initialized() or dist.get_rank() == 0\n")


def _train(r: Recipe) -> str:
    batch_step = r.scheduler is not None and SCHEDULERS[r.scheduler.type].step == "batch"
    sched_arg = ", scheduler" if batch_step else ""
    lines = [
        f"def train(model, device, loader, criterion, optimizer{sched_arg}, epoch, args):",
        f"{I}model.train()",
        f"{I}for batch_idx, (data, target) in enumerate(loader):",
        f"{I * 2}data, target = data.to(device), target.to(device)",
        f"{I * 2}optimizer.zero_grad()",
        f"{I * 2}output = model(data)",
        f"{I * 2}loss = criterion(output, prepare_target(target, output))",
        f"{I * 2}loss.backward()",
        f"{I * 2}optimizer.step()",
    ]
    if batch_step:
        lines.append(f"{I * 2}scheduler.step()  # {r.scheduler.type} steps every batch")
    lines += [
        f"{I * 2}if batch_idx % args.log_interval == 0 and is_main_process():",
        # args.batch_size, the global batch: under torchrun the position counts every process
        f'{I * 3}print(f"Train epoch {{epoch}} '
        f'[{{batch_idx * args.batch_size}}/{{len(loader.dataset)}}]'
        f'  loss: {{loss.item():.6f}}")',
        f"{I * 2}if args.dry_run:",
        f"{I * 3}break",
    ]
    return "\n".join(lines) + "\n"


def _test(kind: str, r: Recipe) -> str:
    lines = [
        "def test(model, device, loader, criterion):",
        f"{I}model.eval()",
        f"{I}total_loss, correct = 0.0, 0",
        f"{I}with torch.no_grad():",
        f"{I * 2}for data, target in loader:",
        f"{I * 3}data, target = data.to(device), target.to(device)",
        f"{I * 3}output = model(data)",
        f"{I * 3}total_loss += criterion(output, prepare_target(target, output)).item() "
        f"* len(data)",
    ]
    if kind == "class":
        lines.append(f"{I * 3}correct += (output.argmax(dim=1) == target).sum().item()")
    elif kind == "binary":
        probabilities = LOSSES[r.loss.type].expects == "probabilities"
        threshold = "0.5" if probabilities else "0.0"  # probabilities vs logits
        lines.append(f"{I * 3}predicted = (output > {threshold}).long().view_as(target)")
        lines.append(f"{I * 3}correct += (predicted == target).sum().item()")
    lines += [
        f"{I}n = len(loader.dataset)",
        f"{I}if dist.is_initialized():  # add up every process's share of the validation set",
        f"{I * 2}sums = torch.tensor([total_loss, correct, n], dtype=torch.float64, "
        f"device=device)",
        f"{I * 2}dist.all_reduce(sums)",
        f"{I * 2}total_loss, correct, n = sums[0].item(), int(sums[1]), int(sums[2])",
        f"{I}total_loss /= n",
    ]
    if kind in ("class", "binary"):
        lines.append(f'{I}if is_main_process():')
        lines.append(f'{I * 2}print(f"Validation: loss {{total_loss:.4f}}, accuracy '
                     f'{{correct}}/{{n}} ({{100.0 * correct / n:.1f}}%)")')
    else:
        lines.append(f'{I}if is_main_process():')
        lines.append(f'{I * 2}print(f"Validation: loss {{total_loss:.4f}}")')
    lines.append(f"{I}return total_loss")
    return "\n".join(lines) + "\n"


def _component_call(prefix: str, type_: str, table: dict, given: dict, first: str,
                    overrides: dict[str, str]) -> str:
    """`torch.optim.Adam(model.parameters(), lr=args.lr)`: non-default params by keyword."""
    spec = table[type_]
    torch_class = _resolve(prefix, type_)
    args = [first]
    for p in spec.params:
        if p.name in overrides:
            args.append(f"{p.name}={overrides[p.name]}")
            continue
        value = given.get(p.name, p.default)
        if value is REQUIRED or value is None:
            continue
        # Write every value PyTorch would not default to by itself, including the
        # catalogue's defaults for arguments PyTorch requires (StepLR's step_size).
        if not same_value(value, torch_default(torch_class, p.name)):
            args.append(f"{p.name}={_literal(value)}")
    return f"{prefix}.{type_}({', '.join(a for a in args if a)})"


def _resolve(prefix: str, type_: str) -> type:
    obj = torch if prefix.startswith("torch") else nn
    for part in prefix.split(".")[1:]:
        obj = getattr(obj, part)
    return getattr(obj, type_)


def _val_set(val_fraction: float) -> list[str]:
    if val_fraction > 0:
        return []
    # No validation split: test() would divide by zero; report on the training data,
    # as the in-app trainer monitors the training loss then.
    return [f"{I}# val_fraction is 0, so there is no validation split: evaluate on the "
            f"training data",
            f"{I}val_set = train_set"]


def _train_loader(shuffle: bool) -> list[str]:
    if not shuffle:
        return [f"{I}sampler = DistributedSampler(train_set, shuffle=False) "
                f"if world_size > 1 else None",
                f"{I}train_loader = DataLoader(train_set, batch_size=args.batch_size // "
                f"world_size, sampler=sampler)"]
    return [f"{I}sampler = DistributedSampler(train_set, seed=args.seed) "
            f"if world_size > 1 else None",
            f"{I}train_loader = DataLoader(train_set, batch_size=args.batch_size // world_size,",
            f"{I}                          shuffle=sampler is None, sampler=sampler)"]


def _frozen_attrs(analysis: Analysis) -> list[str]:
    """How to reach the frozen nodes that own weights (`fc`, `layer1[0].conv1`), in
    forward order."""
    from server.nesting import attr_names, containers, module_tree, path_expression

    names = attr_names(analysis.graph, analysis.order)
    owners = {n.id for n, spec, _ in analysis.layers()
              if n.shares is None and (n.type == "Parameter" or spec.module)}
    members = containers(module_tree(analysis.order, names, owners))
    return [path_expression(names[n.id], members).removeprefix("self.")
            for n, spec, _ in analysis.layers() if n.frozen and spec.module]


def _start_weights() -> list[str]:
    # The tensors whose names and shapes match: a replaced head keeps its fresh weights.
    return [
        f"{I}start = torch.load(args.weights, map_location=device, weights_only=True)",
        f'{I}start = start.get("state_dict", start)  # a torchcanvas checkpoint, or a state_dict',
        f"{I}own = net.state_dict()",
        f"{I}net.load_state_dict({{k: v for k, v in start.items()",
        f"{I}                       if k in own and v.shape == own[k].shape}}, strict=False)",
    ]


def data_file_name(dataset: str, params: dict | None) -> str | None:
    from server.datasets.source import data_file_name as name_of  # datasets load lazily

    return name_of(dataset, params)


def _data_argument(dataset: str, params: dict | None) -> list[str]:
    """`--data`, for data read from a file: the user's file name, never the server's path."""
    name = data_file_name(dataset, params)
    if name is None:
        return []
    what = "CSV file" if dataset == "csv" else "folder of class sub-folders"
    return [f'{I}parser.add_argument("--data", default={name!r}, '
            f'help="the {what} to train on")']


def _main(analysis: Analysis, r: Recipe) -> str:
    g = analysis.graph
    cls = class_name(g.name)
    t, d = r.training, r.data
    opt_params = r.optimizer_params()
    lr = opt_params["lr"]
    loss = _component_call("nn", r.loss.type, LOSSES, r.loss.params, "", {})
    frozen = _frozen_attrs(analysis)
    trained = "[p for p in model.parameters() if p.requires_grad]" if frozen \
        else "model.parameters()"
    optimizer = _component_call("torch.optim", r.optimizer.type, OPTIMIZERS, r.optimizer.params,
                                trained, {"lr": "args.lr"})
    weights = Path(g.init.weights).name if g.init is not None else None
    lines = [
        "def main():",
        f'{I}parser = argparse.ArgumentParser(description="Train {cls} on '
        f'{identifier(d.dataset)}")',
        f'{I}parser.add_argument("--epochs", type=int, default={t.epochs})',
        f'{I}parser.add_argument("--batch-size", type=int, default={d.batch_size})',
        f'{I}parser.add_argument("--lr", type=float, default={lr!r})',
        f'{I}parser.add_argument("--seed", type=int, default={t.seed or 0})',
        f'{I}parser.add_argument("--device", default={t.device!r}, '
        f'help="auto, cpu, cuda or mps")',
        f'{I}parser.add_argument("--dry-run", action="store_true", '
        f'help="train one batch to check that everything runs")',
        f'{I}parser.add_argument("--log-interval", type=int, default=10)',
        *_data_argument(d.dataset, d.params),
        f'{I}parser.add_argument("--save-model", default={identifier(g.name, "model") + ".pt"!r}, '
        f'help="where to save the state_dict (empty: do not save)")',
        *([f'{I}parser.add_argument("--weights", default={weights!r}, '
           f'help="start weights: a state_dict saved with torch.save")'] if weights else []),
        f"{I}args = parser.parse_args()",
        "",
        f"{I}torch.manual_seed(args.seed)",
        f"{I}device, rank, world_size = init_distributed(pick_device(args.device))",
        f"{I}if args.batch_size % world_size:",
        f'{I * 2}parser.error(f"--batch-size {{args.batch_size}} does not split evenly over '
        f'{{world_size}} processes")',
        f"{I}train_set, val_set = load_data(val_fraction={d.val_fraction!r}, seed=args.seed"
        f"{', path=args.data' if data_file_name(d.dataset, d.params) else ''})",
        *_val_set(d.val_fraction),
        f"{I}# Under torchrun each process takes its share of every epoch and of the",
        f"{I}# validation set; --batch-size stays the batch of one optimizer step.",
        *_train_loader(d.shuffle),
        f"{I}if world_size > 1:",
        f"{I * 2}val_set = Subset(val_set, range(rank, len(val_set), world_size))",
        f"{I}val_loader = DataLoader(val_set, batch_size=args.batch_size)",
        "",
        f"{I}net = {cls}().to(device)",
        *(_start_weights() if weights else []),
        *[f"{I}net.{attr}.requires_grad_(False)  # frozen: keeps its start weights"
          for attr in frozen],
        f"{I}model = DistributedDataParallel(net) if world_size > 1 else net",
        f"{I}criterion = {loss.replace('(, ', '(')}",
        f"{I}optimizer = {optimizer}",
    ]
    step = None
    if r.scheduler is not None:
        spec = SCHEDULERS[r.scheduler.type]
        length = {"epochs": "args.epochs", "steps": "args.epochs * len(train_loader)"}
        overrides = {name: length[unit] for name, unit in spec.run_length
                     if r.scheduler.params.get(name) is None}
        call = _component_call("torch.optim.lr_scheduler", spec.type, SCHEDULERS,
                               r.scheduler.params, "optimizer", overrides)
        lines.append(f"{I}scheduler = {call}")
        step = spec.step
    sched_arg = ", scheduler" if step == "batch" else ""
    lines += [
        "",
        f"{I}for epoch in range(1, args.epochs + 1):",
        f"{I * 2}if sampler is not None:",
        f"{I * 3}sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every process",
        f"{I * 2}train(model, device, train_loader, criterion, optimizer{sched_arg}, epoch, args)",
        f"{I * 2}val_loss = test(model, device, val_loader, criterion)",
    ]
    if step == "epoch":
        lines.append(f"{I * 2}scheduler.step()")
    elif step == "plateau":
        lines.append(f"{I * 2}scheduler.step(val_loss)")
    lines += [
        f"{I * 2}if args.dry_run:",
        f"{I * 3}break",
        "",
        f"{I}if args.save_model and is_main_process():",
        f"{I * 2}torch.save(net.state_dict(), args.save_model)",
        f"{I}if dist.is_initialized():",
        f"{I * 2}dist.destroy_process_group()",
    ]
    return "\n".join(lines) + "\n"
