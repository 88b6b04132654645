"""HTTP answers for the deployment formats (ONNX, TorchScript, exported program).

The routes for a graph and for a finished run share this: the bytes come from
`server.export.deploy`, named after the graph, and every refusal is a JSON answer
(422 for what the format cannot express, 501 when the ONNX extra is missing).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from fastapi.responses import Response

from server.export.deploy import DEPLOY_FORMATS, DeployError, export_deployable, onnx_available
from server.graph import Graph
from server.naming import class_name

from .context import ApiError

CodeFormat = Literal["module", "script", "onnx", "torchscript", "exported-program"]


def deploy_response(graph: Graph, format: str, state_dict: Mapping[str, Any] | None = None,
                    label: str = "") -> Response:
    """The file as a download named `<Class><label><suffix>`."""
    if format == "onnx" and not onnx_available():
        raise ApiError(501, "ONNX export needs the onnx extra on the server: "
                            "pip install 'torchcanvas[onnx]'")
    try:
        data = export_deployable(graph, format, state_dict=state_dict)
    except DeployError as exc:
        raise ApiError(422, str(exc)) from None
    suffix, media_type = DEPLOY_FORMATS[format]
    filename = f"{class_name(graph.name)}{label}{suffix}"
    return Response(data, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
