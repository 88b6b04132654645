"""Saved projects: named graphs kept in SQLite, with created and updated times."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path
from fastapi.responses import Response

from .. import graphcheck
from ..context import ApiError, Ctx
from ..schemas import NAME, NAME_DOC, Project, ProjectSummary, RenameBody

router = APIRouter(prefix="/api/projects", tags=["projects"])
Name = Annotated[str, Path(pattern=NAME, description=NAME_DOC)]


@router.get("", response_model=list[ProjectSummary])
def list_projects(ctx: Ctx) -> list[dict[str, Any]]:
    """Every saved project, most recently updated first."""
    return ctx.store.list_projects()


@router.get("/{name}", response_model=Project)
def get_project(ctx: Ctx, name: Name) -> dict[str, Any]:
    """One project with its graph."""
    project = ctx.store.get_project(name)
    if project is None:
        raise ApiError(404, f"no project {name!r}")
    return project


@router.put("/{name}", response_model=ProjectSummary)
def put_project(ctx: Ctx, name: Name,
                graph: Annotated[dict[str, Any], Body(description="A graph, format v1")]
                ) -> dict[str, Any]:
    """Create or replace a project; the graph must be well formed, not yet valid."""
    graphcheck.parsed(graph, ctx.settings.uploads_dir)
    return ctx.store.put_project(name, graph)


@router.post("/{name}/rename", response_model=ProjectSummary)
def rename_project(ctx: Ctx, name: Name, body: RenameBody) -> dict[str, Any]:
    """Give a project a new name (409 if that name is taken)."""
    if ctx.store.get_project(name) is None:
        raise ApiError(404, f"no project {name!r}")
    if body.name != name and ctx.store.get_project(body.name) is not None:
        raise ApiError(409, f"a project named {body.name!r} exists")
    ctx.store.rename_project(name, body.name)
    project = ctx.store.get_project(body.name)
    assert project is not None
    return project


@router.delete("/{name}", status_code=204, response_class=Response)
def delete_project(ctx: Ctx, name: Name) -> Response:
    """Delete a project."""
    if not ctx.store.delete_project(name):
        raise ApiError(404, f"no project {name!r}")
    return Response(status_code=204)
