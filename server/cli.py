"""The `torchcanvas` command line: validate, summarize, export, train and serve graphs.

    torchcanvas validate GRAPH.json        exit 0 when valid, 1 when not (errors by node)
    torchcanvas summary GRAPH.json         a table of nodes, shapes and parameters
    torchcanvas export GRAPH.json [--format module|script] [-o FILE]
    torchcanvas export GRAPH.json --format onnx|torchscript|exported-program
                       [--weights CHECKPOINT.pt] -o FILE
    torchcanvas import SOURCE [--args JSON] [--input-shape 1,28,28]... [--input-dtype long]
                       [--vocab N] [--partial] [--weights ORIG.pt] -o GRAPH.json
                       SOURCE: FILE.py:ClassName, torchvision:NAME or FILE.onnx
    torchcanvas schema                     the JSON Schema of graph format v1
    torchcanvas train GRAPH.json [--epochs N] [--device D] [--out DIR]
    torchcanvas serve [--host H] [--port P] [--data-dir DIR]
                      [--executor ray [--ray-address A] [--workers N] [--gpus-per-worker G]]

A user's mistake (missing file, bad JSON, invalid graph) prints a clear message
to stderr and exits 1; a traceback means a bug in torchcanvas.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from server.graph import Graph, GraphFormatError, graph_schema, load_graph_file


class UserError(Exception):
    """Printed as `torchcanvas: <message>` with exit status 1."""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _apply_limits(args)
        return args.func(args)
    except UserError as exc:
        print(f"torchcanvas: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `torchcanvas export ... | head` is fine
        return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="torchcanvas", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check a graph; exit 1 if it is invalid")
    p.add_argument("graph", help="a graph v1 JSON file")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("summary", help="print each node's output shape and parameters")
    p.add_argument("graph")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("export", help="write PyTorch code, ONNX or TorchScript for a graph")
    p.add_argument("graph")
    p.add_argument("--format", default="module",
                   choices=("module", "script", "onnx", "torchscript", "exported-program"))
    p.add_argument("-o", "--output", help="file to write (default: stdout; required for "
                                          "onnx, torchscript and exported-program)")
    p.add_argument("--weights", help="a checkpoint (.pt, as `train` writes) whose weights the "
                                     "onnx/torchscript/exported-program file carries")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("import", help="turn a PyTorch class, torchvision model or ONNX file "
                                      "into a graph (weights beside it)")
    p.add_argument("source", help="FILE.py:ClassName (runs that file), torchvision:NAME, "
                                  "or FILE.onnx")
    p.add_argument("--args", default="{}", help="constructor keyword arguments as JSON")
    p.add_argument("--input-shape", action="append", help="one sample's shape without the "
                   "batch, e.g. 1,28,28; once per forward() argument, in order")
    p.add_argument("--input-dtype", action="append", choices=("float", "long"),
                   help="float values or long token ids, once for every input or once per "
                   "--input-shape (default: ids where an Embedding reads the input)")
    p.add_argument("--vocab", action="append", type=int, help="token ids run below this "
                   "(implies --input-dtype long); once, or once per --input-shape")
    p.add_argument("--partial", action="store_true",
                   help="keep what maps and list the rest in the graph's ui.import")
    p.add_argument("--flat", action="store_true",
                   help="no blocks: every layer a node of the graph, named by its module path "
                        "(default: one block per submodule class)")
    p.add_argument("--weights", help="a state_dict of the original model (.pt, read with "
                   "weights_only), e.g. torchvision's pretrained weights saved with torch.save")
    p.add_argument("-o", "--output", required=True, help="the graph file to write; the "
                   "weights go beside it as the same name with .pt")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("inspect", help="X-ray: each layer's output for one sample, its "
                                       "gradient, FLOPs and memory")
    p.add_argument("graph")
    p.add_argument("--sample", type=int, default=0, help="validation sample index")
    p.add_argument("--checkpoint", help="weights to inspect (a checkpoint or state_dict .pt); "
                                        "default: the seed's initial weights")
    p.add_argument("--input", metavar="FILE.json",
                   help="inspect this input instead of a dataset sample: a JSON nested list "
                        "shaped like the Input (without the batch)")
    p.add_argument("--timing", action="store_true",
                   help="also measure forward+backward time per layer")
    p.add_argument("--json", action="store_true", help="the full report as JSON")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("doctor", help="pre-flight checks: learning-rate range test, overfit "
                                      "one batch, initialisation, lints")
    p.add_argument("graph")
    p.add_argument("--json", action="store_true", help="the full report as JSON")
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("schema", help="print the JSON Schema of graph format v1")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("train", help="train a graph headless, printing events as JSON lines")
    p.add_argument("graph")
    p.add_argument("--epochs", type=int, help="override training.epochs")
    p.add_argument("--device", help="override training.device (auto, cpu, cuda, mps)")
    p.add_argument("--out", default="out", help="folder for the checkpoint and script")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("download", help="fetch a dataset that needs a download (mnist, ...)")
    p.add_argument("dataset", help="a dataset name, e.g. mnist")
    p.set_defaults(func=cmd_download)

    p = sub.add_parser("serve", help="run the web app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--data-dir", default="data", help="projects, runs and uploads live here")
    p.add_argument("--allow-host", action="append", default=[],
                   help="an extra Host name to accept (repeatable)")
    _executor_arguments(p)
    p.set_defaults(func=cmd_serve)

    for name, command in sub.choices.items():
        if name in ("validate", "summary", "export", "train", "serve"):
            command.add_argument("--max-params", type=int, metavar="N",
                                 help="refuse networks with more parameters (default 250M; "
                                      "env TORCHCANVAS_MAX_PARAMS)")
            command.add_argument("--max-nodes", type=int, metavar="N",
                                 help="refuse graphs with more nodes (default 2000; "
                                      "env TORCHCANVAS_MAX_NODES)")
    return parser


def _apply_limits(args: argparse.Namespace) -> None:
    """--max-params/--max-nodes become the environment every part reads (the server's
    routes and the training worker too), then are checked once here."""

    from server.validation import Limits

    for flag, var in (("max_params", "TORCHCANVAS_MAX_PARAMS"),
                      ("max_nodes", "TORCHCANVAS_MAX_NODES")):
        value = getattr(args, flag, None)
        if value is not None:
            if value < 1:
                raise UserError(f"--{flag.replace('_', '-')} must be at least 1")
            os.environ[var] = str(value)
    try:
        Limits.from_env()
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _load(path: str) -> Graph:
    try:
        graph = load_graph_file(path)
    except GraphFormatError as exc:
        if not Path(path).is_file() or "is not valid JSON" in str(exc):
            raise UserError(str(exc)) from None  # a file problem, not a graph problem
        lines = [_issue_line(e) for e in exc.errors]
        raise UserError(f"{path} is not a valid graph:\n" + "\n".join(lines)) from None
    if graph.init is not None:  # start weights are named relative to the graph file
        from server.weights import resolve_weights_path

        weights = resolve_weights_path(graph, Path(path).resolve().parent)
        graph = graph.model_copy(update={"init": graph.init.model_copy(
            update={"weights": str(weights)})})
    return graph


def _issue_line(e: dict | object) -> str:
    d = e if isinstance(e, dict) else e.model_dump()
    where = d.get("node") or d.get("component")
    param = f" [{d['param']}]" if d.get("param") else ""
    return _printable(f"  {where or 'graph'}{param}: {d['message']}")


def cmd_validate(args: argparse.Namespace) -> int:
    from server.validation import validate_graph

    report = validate_graph(_load(args.graph))
    for w in report.all_warnings():
        print("warning " + _issue_line(w).strip(), file=sys.stderr)
    if not report.valid:
        print(f"{args.graph}: invalid", file=sys.stderr)
        for e in report.all_errors():
            print(_issue_line(e), file=sys.stderr)
        return 1
    print(f"{args.graph}: valid, {report.total_params:,} parameters")
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    from server.catalog import fmt
    from server.validation import validate_graph

    graph = _load(args.graph)
    report = validate_graph(graph)
    rows = [("node", "type", "output shape", "parameters", "notes")]
    for node in graph.nodes:
        r = report.nodes.get(node.id)
        shape = fmt(r.output_shape) if r and r.output_shape is not None else "?"
        notes = "; ".join([f"error: {e.message}" for e in r.errors] +
                          [f"warning: {w.message}" for w in r.warnings]) if r else ""
        rows.append((_printable(node.id), node.type, shape, f"{r.params:,}" if r else "",
                     notes))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)) +
              ("  " + row[4] if row[4] else "").rstrip())
    print(f"\ntotal parameters: {report.total_params:,}")
    for issue in report.errors + report.warnings:
        print(_issue_line(issue).strip())
    return 0 if report.valid else 1


def _printable(text: str) -> str:
    # Ids are user text: keep control and bidi characters off the terminal.
    return "".join(c if c.isprintable() and c not in "\u202a\u202b\u202c\u202d\u202e" else "?"
                   for c in text)


def cmd_export(args: argparse.Namespace) -> int:
    from server.export import export_code
    from server.recipe import RecipeError
    from server.validation import InvalidGraph

    graph = _load(args.graph)
    if args.format not in ("module", "script"):
        return _export_deployable(graph, args)
    if args.weights:
        raise UserError("--weights goes with onnx, torchscript or exported-program; the "
                        "module and script formats are code")
    try:
        code = export_code(graph, args.format)
    except InvalidGraph as exc:
        lines = [_issue_line(e) for e in exc.validation.all_errors()]
        raise UserError(f"{args.graph} is invalid:\n" + "\n".join(lines)) from None
    except RecipeError as exc:
        raise UserError(str(exc)) from None
    if args.output:
        Path(args.output).write_text(code, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(code)
    return 0


def _export_deployable(graph: Graph, args: argparse.Namespace) -> int:
    from server.export.deploy import DeployError, export_deployable, write_deployable
    from server.validation import InvalidGraph

    if not args.output:
        raise UserError(f"--format {args.format} writes a binary file: give it a name with -o")
    state = _load_weights(args.weights) if args.weights else None
    try:
        data = export_deployable(graph, args.format, state_dict=state)
    except InvalidGraph as exc:
        lines = [_issue_line(e) for e in exc.validation.all_errors()]
        raise UserError(f"{args.graph} is invalid:\n" + "\n".join(lines)) from None
    except (DeployError, RuntimeError) as exc:
        # RuntimeError: load_state_dict's key or shape mismatch with --weights.
        raise UserError(str(exc).strip().splitlines()[0]) from None
    write_deployable(args.output, data)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _load_weights(path: str) -> dict:
    """A checkpoint's state_dict, loaded as weights only (a pickle that runs code is refused)."""
    from server.weights import WeightsError, read_state_dict

    try:
        return read_state_dict(path)
    except WeightsError as exc:
        raise UserError(str(exc)) from None


def cmd_import(args: argparse.Namespace) -> int:
    from server.importers import ImportFailed, import_source

    try:
        kwargs = json.loads(args.args)
    except json.JSONDecodeError as exc:
        raise UserError(f"--args is not JSON: {exc}") from None
    if not isinstance(kwargs, dict):
        raise UserError("--args must be a JSON object of keyword arguments")
    shapes = None
    if args.input_shape:
        shapes = []
        for text in args.input_shape:
            try:
                shapes.append([int(v) for v in text.replace("x", ",").split(",") if v.strip()])
            except ValueError:
                raise UserError(f"--input-shape {text!r}: give sizes like 1,28,28") from None
    shape = shapes[0] if shapes and len(shapes) == 1 else shapes
    try:
        result = import_source(args.source, args=kwargs, input_shape=shape, partial=args.partial,
                               weights=args.weights, input_dtype=args.input_dtype,
                               vocab=args.vocab, blocks=not args.flat)
    except ImportFailed as exc:
        raise UserError(str(exc)) from None
    out = Path(args.output)
    out.write_text(json.dumps(result.graph, indent=2) + "\n", encoding="utf-8")
    blocks = result.graph.get("blocks") or {}
    shown = f", {len(blocks)} blocks: {', '.join(blocks)}" if blocks else ""
    print(f"wrote {out} ({len(result.graph['nodes'])} nodes{shown})", file=sys.stderr)
    if result.state_dict:
        import torch

        weights = out.with_suffix(".pt")
        torch.save(result.state_dict, weights)
        print(f"wrote {weights} (the weights: use them with export --weights)", file=sys.stderr)
    for missing in result.unmapped:
        print(f"not mapped: {missing}", file=sys.stderr)
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from server.memory import human_bytes
    from server.validation import InvalidGraph
    from server.xray import xray

    graph = _load(args.graph)
    state = _load_weights(args.checkpoint) if args.checkpoint else None
    value = None
    if args.input:
        try:
            value = json.loads(Path(args.input).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UserError(f"cannot read {args.input} as JSON: {exc}") from None
    try:
        report = xray(graph, args.sample, state, measure_time=args.timing, value=value)
    except InvalidGraph as exc:
        lines = [_issue_line(e) for e in exc.validation.all_errors()]
        raise UserError(f"{args.graph} is invalid:\n" + "\n".join(lines)) from None
    except (ValueError, RuntimeError) as exc:
        raise UserError(str(exc).splitlines()[0]) from None
    if args.json:
        print(json.dumps(report))
        return 0
    which = "your input" if report["sample"] is None else f"sample {report['sample']}"
    print(f"{which} (label {report['label']}), {report['weights']} weights, "
          f"loss on one batch {report['loss']:.4f}")
    head = (f"{'node':<16} {'shape':<14} {'mean':>8} {'std':>8} {'zeros':>6} {'satur.':>6} "
            f"{'grad':>9} {'grad/w':>8} {'FLOPs':>10} {'act. mem':>9}")
    if args.timing:
        head += f" {'f+b ms':>8}"
    print(head)
    for nid in report["order"]:
        n = report["nodes"][nid]

        def num(v: Any, fmt: str) -> str:
            return format(v, fmt) if isinstance(v, int | float) else "-"

        line = (f"{_printable(nid)[:16]:<16} {str(tuple(n['shape'])):<14} {n['mean']:>8.3f} "
                f"{n['std']:>8.3f} {n['zeros']:>6.0%} {num(n.get('saturated'), '>6.0%'):>6} "
                f"{num(n.get('grad_norm'), '>9.2e'):>9} {num(n.get('grad_to_weight'), '>8.2e'):>8} "
                f"{n['flops']:>10,} {human_bytes(n['activation_bytes']):>9}")
        if args.timing:
            line += f" {num(n.get('forward_backward_ms'), '>8.2f'):>8}"
        print(line)
    mem = report["memory"]
    print(f"total {report['total_flops']:,} FLOPs per sample; training memory about "
          f"{mem['total_human']} for batch size {mem['batch_size']}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Exit 0 when nothing was found, 1 when there are findings (like `validate`)."""
    from server.doctor import diagnose

    graph = _load(args.graph)
    if graph.data is None:
        raise UserError("the doctor trains a little on the graph's data: pick a dataset first")
    try:
        report = diagnose(graph)
    except (ValueError, RuntimeError) as exc:
        raise UserError(str(exc).splitlines()[0]) from None
    if args.json:
        print(json.dumps(report.as_dict()))
        return 1 if report.findings else 0
    if report.suggested_lr is not None:
        print(f"learning rate: {report.current_lr:g} now, {report.suggested_lr:g} suggested by "
              f"the range test ({len(report.lr_curve)} steps)")
    fit = report.overfit
    if fit.get("first_loss") is not None:
        print(f"overfit one batch: loss {fit['first_loss']:.3g} -> {fit['last_loss']:.3g} in "
              f"{fit['steps']} steps ({'fits' if fit.get('fitted') else 'does NOT fit'})")
    for f in report.findings:
        where = f.node or f.component or "graph"
        print(f"- {_printable(where)}: {f.message}" + (f" (fix: {f.fix})" if f.fix else ""))
    if not report.findings:
        print("no problems found")
    return 1 if report.findings else 0


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(graph_schema(), indent=2))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from server.training import train_to_stdout

    graph = _load(args.graph)
    return train_to_stdout(graph, Path(args.out), epochs=args.epochs, device=args.device)


def cmd_download(args: argparse.Namespace) -> int:
    from server.datasets import DatasetError, download

    try:
        print(download(args.dataset))
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _executor_arguments(p: argparse.ArgumentParser) -> None:
    """Where `serve` trains (docs/scaling.md): local worker processes or a Ray cluster."""
    p.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="local worker processes (default) or a Ray cluster")
    p.add_argument("--ray-address", help="the Ray cluster (e.g. ray://head:10001 or auto; "
                   "default: start a local Ray)")
    p.add_argument("--workers", type=int, default=2, help="Ray: DDP workers per run")
    p.add_argument("--gpus-per-worker", type=float, default=0.0, help="Ray: GPUs per worker")
    p.add_argument("--ray-storage", help="Ray: Ray Train's storage path (shared path or URI)")


def _executor_settings(args: argparse.Namespace) -> dict:
    if args.executor == "local":
        return {}
    try:
        import ray  # noqa: F401 - fail here, not at the first run
    except ImportError:
        raise UserError("--executor ray needs Ray: pip install 'torchcanvas[ray]'") from None
    if args.workers < 1 or args.gpus_per_worker < 0:
        raise UserError("--workers must be at least 1 and --gpus-per-worker at least 0")
    return {"executor": "ray", "ray_address": args.ray_address, "ray_workers": args.workers,
            "ray_gpus_per_worker": args.gpus_per_worker, "ray_storage": args.ray_storage}


def cmd_serve(args: argparse.Namespace) -> int:
    from server.app import serve

    serve(host=args.host, port=args.port, data_dir=Path(args.data_dir),
          allowed_hosts=args.allow_host, **_executor_settings(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
