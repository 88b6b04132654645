"""Datasets: the registry plus uploads, previews, and uploading a CSV or a zip of images."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from server.datasets import (
    DATASETS,
    DatasetError,
    dataset_catalog,
    describe_dataset,
    preview_dataset,
    unavailable,
)

from .. import graphcheck, jsontext, uploads
from ..context import ApiError, Ctx
from ..housekeeping import require_room
from ..runs import new_id
from ..schemas import NAME, NAME_DOC, DatasetList, ErrorAnswer, Upload

router = APIRouter(prefix="/api/datasets", tags=["datasets"])


@router.get("", response_model=DatasetList)
def list_datasets(ctx: Ctx) -> dict[str, Any]:
    """Built-in datasets, then uploads (use an upload's `dataset` and `params` in a graph).

    `available` says whether a built-in set can be read here now; when it cannot,
    `how_to_get` says how (MNIST and the other downloads, on an offline server)."""
    sets = [d | {"available": (why := unavailable(d["name"])) is None, "how_to_get": why}
            for d in dataset_catalog()]
    return {"datasets": sets, "uploads": ctx.store.list_datasets()}


@router.get("/{name}/preview")
def preview(ctx: Ctx, name: Annotated[str, Path(pattern=NAME)],
            params: Annotated[str, Query(description="JSON object of dataset params")] = "{}"
            ) -> dict[str, Any]:
    """A few samples (points, images or rows) plus the dataset's info."""
    upload = ctx.store.get_dataset(name)
    if upload is not None:
        dataset, values = upload["dataset"], upload["params"]
    else:
        try:
            values = jsontext.loads(params, ctx.settings.max_json_depth)
        except jsontext.JSONRefused as exc:
            raise ApiError(422, f"params must be a JSON object: {exc}") from None
        if not isinstance(values, dict):
            raise ApiError(422, "params must be a JSON object")
        graphcheck.require_safe_paths({"data": {"params": values}}, ctx.settings.uploads_dir)
        dataset = name
    if dataset not in DATASETS:
        raise ApiError(404, f"no dataset {name!r}")
    try:
        return preview_dataset(dataset, values)
    except DatasetError as exc:
        raise ApiError(422, str(exc), [{"component": "data", "param": exc.param,
                                        "message": str(exc)}]) from None


@router.post("", status_code=201, response_model=Upload,
             responses={409: {"model": ErrorAnswer}, 413: {"model": ErrorAnswer},
                        429: {"model": ErrorAnswer}, 507: {"model": ErrorAnswer},
                        422: {"model": ErrorAnswer}})
async def upload(ctx: Ctx, file: Annotated[UploadFile, File(description="CSV or zip")],
                 name: Annotated[str | None, Form(pattern=NAME, description=NAME_DOC)] = None,
                 label: Annotated[str, Form(max_length=256,
                                            description="CSV label column (default: last)")] = "",
                 text: Annotated[str, Form(max_length=256, description="CSV column of text to "
                                           "classify (default: none, numeric features)")] = "",
                 tokens: Annotated[Literal["word", "char"], Form(
                     description="How the text becomes tokens")] = "word",
                 ) -> dict[str, Any]:
    """Upload a CSV file, or a zip of class folders for an image dataset; 429 while the
    server is already checking as many uploads as it allows."""
    require_room(ctx)
    if not ctx.upload_slots.acquire(blocking=False):
        raise ApiError(429, f"{ctx.settings.max_upload_checks} upload(s) are being checked; "
                       "try again shortly", headers={"Retry-After": "5"})
    try:
        return await run_in_threadpool(_store_upload, ctx, file, name, label, text, tokens)
    finally:
        ctx.upload_slots.release()


@router.delete("/{name}", status_code=204, response_class=Response,
               responses={404: {"model": ErrorAnswer}, 409: {"model": ErrorAnswer}})
def delete_upload(ctx: Ctx, name: Annotated[str, Path(pattern=NAME)]) -> Response:
    """Delete an uploaded dataset and its files (409 while a run trains on it)."""
    record = ctx.store.get_dataset(name)
    if record is None:
        raise ApiError(404, f"no uploaded dataset {name!r}")
    folder = ctx.settings.uploads_dir / record["id"]
    for run in ctx.store.list_runs():
        if ctx.runs.is_active(run["id"]) and record["id"] in json.dumps(run["graph"]):
            raise ApiError(409, f"run {run['id']} is training on {name!r}; stop it first")
    ctx.store.delete_dataset(name)
    uploads.remove(folder)
    return Response(status_code=204)


def _store_upload(ctx: Ctx, file: UploadFile, name: str | None, label: str, text: str = "",
                  tokens: str = "word") -> dict[str, Any]:
    settings = ctx.settings
    taken = set(DATASETS) | {d["name"] for d in ctx.store.list_datasets()}
    if name is None:
        name = _name_from(file.filename, taken)
    elif name in taken:
        raise ApiError(409, f"a dataset named {name!r} exists; choose another name")
    upload_id = new_id()
    settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    tmp = settings.uploads_dir / f".tmp-{upload_id}"
    final = settings.uploads_dir / upload_id
    tmp.mkdir()
    shown = uploads.shown_name(file.filename)
    try:
        zipped = uploads.is_zip(file.file.read(4))
        file.file.seek(0)
        if not zipped:
            uploads.check_csv_name(shown)
        # Stored under the dataset's own name, so an exported script names the user's
        # file (`--data iris.csv`), not the server's folder.
        if zipped:
            size = uploads.extract_image_zip(file.file, tmp / name, settings)
        else:
            size = uploads.store_csv(file.file, tmp / f"{name}.csv", settings)
        kind = "images" if zipped else "csv"
        tmp.rename(final)
        dataset, params = uploads.dataset_params(kind, final, label, name,
                                                 text if kind == "csv" else "", tokens)
        try:
            info = describe_dataset(dataset, params).to_dict()
        except DatasetError as exc:
            raise uploads.UploadError(str(exc)) from None
    except BaseException as exc:  # a refused or failed upload leaves nothing behind
        uploads.remove(tmp)
        uploads.remove(final)
        if isinstance(exc, uploads.UploadError):
            # The page never sees where the server keeps files: say the user's file name.
            message = str(exc)
            for where in (tmp, final):
                message = message.replace(str(where / f"{name}.csv"), shown)
                message = message.replace(str(where / name), shown).replace(str(where), shown)
            raise ApiError(exc.status, message) from None
        raise
    record = {"id": upload_id, "name": name, "kind": kind, "dataset": dataset, "params": params,
              "info": info, "size": size, "created": time.time()}
    try:
        ctx.store.add_dataset(record)
    except sqlite3.IntegrityError:  # the same name uploaded twice at once
        uploads.remove(final)
        raise ApiError(409, f"a dataset named {name!r} exists; choose another name") from None
    return record


def _name_from(filename: str | None, taken: set[str]) -> str:
    """A free dataset name from an uploaded file's name, reduced to the allowed characters."""
    stem = (filename or "upload").rsplit("/", 1)[-1].rsplit("\\", 1)[-1].rsplit(".", 1)[0]
    clean = "".join(c if c.isascii() and (c.isalnum() or c in "_-") else "_" for c in stem)
    name = clean.lstrip("_-")[:48] or "upload"
    while name in taken:
        name = f"{name[:48]}-{new_id()[:4]}"
    return name
