"""Example networks (examples/*.json), which the editor offers as templates."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ..context import Ctx
from ..examples import load_examples
from ..schemas import Example

router = APIRouter(prefix="/api/examples", tags=["examples"])


@router.get("", response_model=list[Example])
def list_examples(ctx: Ctx) -> list[dict[str, Any]]:
    """Every example graph with a title and description, in the order of examples/templates.toml."""
    return load_examples(ctx.settings.examples_dir)
