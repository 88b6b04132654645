"""Pydantic models for the API's bodies and answers (they also shape the OpenAPI docs).

Graph bodies are taken as JSON objects and parsed with `server.graph.parse_graph`
inside the routes, so that a malformed graph gets the validator's node-named
errors rather than pydantic's raw locations.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

RUN_ID = r"^[0-9a-f]{16}$"
NAME = r"^[A-Za-z0-9_][A-Za-z0-9_ .\-]{0,63}$"
# Event seqs stay within what a browser's numbers hold exactly; larger `?after=` is 422.
MAX_SEQ = 2**53
NAME_DOC = "1-64 letters, digits, spaces, '_', '-' or '.', not starting with '.', '-' or ' '"


class ErrorItem(BaseModel):
    node: str | None = None
    param: str | None = None
    component: str | None = None
    message: str


class ErrorAnswer(BaseModel):
    detail: str
    errors: list[ErrorItem] = Field(default_factory=list)


class RunCreated(BaseModel):
    id: str
    status: str


class RunSummary(BaseModel):
    id: str
    name: str | None = Field(None, description="The graph's name")
    dataset: str | None = None
    status: str
    created: float
    started: float | None = None
    ended: float | None = None
    metrics: dict[str, Any] | None = Field(None, description="The last epoch's metrics")
    error: str | None = None
    last_seq: int = Field(description="Highest stored event seq (-1: none yet)")
    project: str | None = Field(None, description="The editor project the run was started from")
    label: str | None = Field(None, description="The user's own name for the run")
    title: str = Field("", description="What people call the run: its label, else "
                                       "'project · dataset #n' (n counts the project's runs)")


class RunRename(BaseModel):
    label: str = Field(min_length=1, max_length=80, description="The run's new name")


class RunDetail(RunSummary):
    graph: dict[str, Any]
    has_checkpoint: bool = False


class StopAnswer(BaseModel):
    id: str
    status: str
    stopping: bool = Field(description="True if the run was active and has been asked to stop")


class PredictBody(BaseModel):
    input: Any = Field(description="One sample shaped like the Input, without the batch: "
                       "pixels in 0..1 for images, the point's coordinates for 2-D sets; "
                       "for a model of token ids, text (a language model's prompt)")
    length: int | None = Field(default=None, ge=1, le=500,
                               description="Language models: characters to sample (200)")
    temperature: float | None = Field(default=None, ge=0.05, le=5.0,
                                      description="Language models: sampling temperature (0.8)")
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1,
                             description="Language models: seed of the sampling (0)")


class PredictAnswer(BaseModel):
    probabilities: list[float] | None = None
    labels: list[str] | None = None
    output: list[float] | None = Field(default=None, description="Regression values")
    text: str | None = Field(default=None, description="A language model's continuation, or "
                             "a per-position model's output as text")
    prompt: str | None = None
    tokens: list[str] | None = Field(default=None, description="The typed text's tokens as "
                                     "the model saw them (<unk> outside its vocabulary)")


class Samples(BaseModel):
    inputs: list[Any] = Field(description="The samples, each shaped like the Input")
    labels: list[int] = Field(description="True class of each sample")
    probabilities: list[list[float]] = Field(description="The model's class probabilities")
    class_names: list[str]


class ProjectSummary(BaseModel):
    name: str
    created: float
    updated: float


class Project(ProjectSummary):
    graph: dict[str, Any]


class Example(BaseModel):
    name: str
    title: str
    description: str
    graph: dict[str, Any]


class RenameBody(BaseModel):
    name: str = Field(pattern=NAME, description=NAME_DOC)


class Upload(BaseModel):
    id: str
    name: str
    kind: Literal["csv", "images"]
    dataset: str = Field(description="The registry dataset the upload is used through")
    params: dict[str, Any] = Field(description="Put these in the graph's data.params")
    info: dict[str, Any]
    size: int
    created: float


class DatasetList(BaseModel):
    datasets: list[dict[str, Any]] = Field(description="The built-in registry")
    uploads: list[Upload]


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    active_runs: int
