"""Import into the canvas: an uploaded ONNX file, or a torchvision architecture (the zoo).

Only formats that run no code are imported here. A `.py` model runs the user's
code, so that is `torchcanvas import` on the user's own machine, never the server.
The page gets the graph to open and the validator's report on it (made while
importing), so it shows every shape without a second round trip; start weights
come through `/api/weights`. Zoo answers are kept (a few): the page gets no
weights, and the same architecture always gives the same graph.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, File, Path, UploadFile
from starlette.concurrency import run_in_threadpool

from server.importers import ImportFailed, import_source, torchvision_models

from ..context import ApiError, Ctx
from ..schemas import ErrorAnswer

router = APIRouter(prefix="/api/import", tags=["import"])
ModelName = Annotated[str, Path(pattern=r"^[a-z0-9_]{1,64}$", description="torchvision name")]


@router.get("/zoo")
def zoo() -> dict[str, Any]:
    """The torchvision classification architectures this server can build (no weights)."""
    return {"models": torchvision_models()}


@router.post("/zoo/{name}", responses={404: {"model": ErrorAnswer},
                                        422: {"model": ErrorAnswer}})
def import_zoo(name: ModelName) -> dict[str, Any]:
    """The architecture as a graph; 422 names every operation with no catalogue node."""
    if name not in torchvision_models():
        raise ApiError(404, f"torchvision has no classification model {name!r}")
    return _zoo_answer(name)


@functools.lru_cache(maxsize=8)
def _zoo_answer(name: str) -> dict[str, Any]:
    return _answer(lambda: import_source(f"torchvision:{name}"))


@router.post("/onnx", responses={413: {"model": ErrorAnswer}, 422: {"model": ErrorAnswer}})
async def import_onnx_file(ctx: Ctx, file: Annotated[UploadFile, File(description=".onnx")]
                           ) -> dict[str, Any]:
    """An uploaded ONNX file as a graph; refused cleanly when it is hostile or unmappable."""
    return await run_in_threadpool(_import_upload, ctx, file)


def _import_upload(ctx: Ctx, file: UploadFile) -> dict[str, Any]:
    name = FilePath(file.filename or "model.onnx").name
    stem = "".join(c if c.isalnum() or c in "_-" else "_" for c in name.rsplit(".", 1)[0])
    with tempfile.TemporaryDirectory(prefix="import-") as folder:
        path = FilePath(folder) / f"{stem[:64] or 'model'}.onnx"
        with path.open("wb") as out:
            while chunk := file.file.read(1 << 20):
                out.write(chunk)
        return _answer(lambda: import_source(str(path)))


def _answer(run: Any) -> dict[str, Any]:
    try:
        result = run()
    except ImportFailed as exc:
        raise ApiError(422, str(exc).splitlines()[0],
                       [{"message": str(u)} for u in exc.unmapped]) from None
    answer: dict[str, Any] = {"graph": result.graph}
    if result.validation is not None:
        answer["validation"] = result.validation.model_dump(mode="json")
    return answer
