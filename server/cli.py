"""The `torchcanvas` command line: validate, summarize, export, train and serve graphs.

    torchcanvas validate GRAPH.json        exit 0 when valid, 1 when not (errors by node)
    torchcanvas summary GRAPH.json         a table of nodes, shapes and parameters
    torchcanvas export GRAPH.json [--format module|script] [-o FILE]
    torchcanvas export GRAPH.json --format onnx|torchscript|exported-program
                       [--weights CHECKPOINT.pt] -o FILE
    torchcanvas import SOURCE [--args JSON] [--input-shape 1,28,28] [--partial] -o GRAPH.json
                       SOURCE: FILE.py:ClassName, torchvision:NAME or FILE.onnx
    torchcanvas schema                     the JSON Schema of graph format v1
    torchcanvas train GRAPH.json [--epochs N] [--device D] [--out DIR]
    torchcanvas serve [--host H] [--port P] [--data-dir DIR]

A user's mistake (missing file, bad JSON, invalid graph) prints a clear message
to stderr and exits 1; a traceback means a bug in torchcanvas.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from server.graph import Graph, GraphFormatError, graph_schema, load_graph_file


class UserError(Exception):
    """Printed as `torchcanvas: <message>` with exit status 1."""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
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
    p.add_argument("--input-shape", help="one sample's shape without the batch, e.g. 1,28,28")
    p.add_argument("--partial", action="store_true",
                   help="keep what maps and list the rest in the graph's ui.import")
    p.add_argument("-o", "--output", required=True, help="the graph file to write; the "
                   "weights go beside it as the same name with .pt")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("schema", help="print the JSON Schema of graph format v1")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("train", help="train a graph headless, printing events as JSON lines")
    p.add_argument("graph")
    p.add_argument("--epochs", type=int, help="override training.epochs")
    p.add_argument("--device", help="override training.device (auto, cpu, cuda, mps)")
    p.add_argument("--out", default="out", help="folder for the checkpoint and script")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("download", help="download mnist, fashion_mnist or cifar10 into the "
                       "data folder ($TORCHCANVAS_DATA); the web server never downloads")
    p.add_argument("dataset")
    p.set_defaults(func=cmd_download)

    p = sub.add_parser("serve", help="run the web app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--data-dir", default="data", help="projects, runs and uploads live here")
    p.add_argument("--allow-host", action="append", default=[],
                   help="an extra Host name to accept (repeatable)")
    p.set_defaults(func=cmd_serve)
    return parser


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
    shape = None
    if args.input_shape:
        try:
            shape = [int(v) for v in args.input_shape.replace("x", ",").split(",") if v.strip()]
        except ValueError:
            raise UserError(f"--input-shape {args.input_shape!r}: give sizes like 1,28,28") \
                from None
    try:
        result = import_source(args.source, args=kwargs, input_shape=shape, partial=args.partial)
    except ImportFailed as exc:
        raise UserError(str(exc)) from None
    out = Path(args.output)
    out.write_text(json.dumps(result.graph, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out} ({len(result.graph['nodes'])} nodes)", file=sys.stderr)
    if result.state_dict:
        import torch

        weights = out.with_suffix(".pt")
        torch.save(result.state_dict, weights)
        print(f"wrote {weights} (the weights: use them with export --weights)", file=sys.stderr)
    for missing in result.unmapped:
        print(f"not mapped: {missing}", file=sys.stderr)
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(graph_schema(), indent=2))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from server.training import train_to_stdout

    graph = _load(args.graph)
    return train_to_stdout(graph, Path(args.out), epochs=args.epochs, device=args.device)


def cmd_download(args: argparse.Namespace) -> int:
    from server.datasets import DatasetError
    from server.datasets.loader import download

    try:
        folder = download(args.dataset)
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.dataset} is in {folder}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from server.app import serve

    serve(host=args.host, port=args.port, data_dir=Path(args.data_dir),
          allowed_hosts=args.allow_host)
    return 0


if __name__ == "__main__":
    sys.exit(main())
