"""`serve --executor ray ...` reaches the settings, and the settings pick the run factory."""

from __future__ import annotations

import pytest

from server.app.runs import default_factory, factory_for
from server.app.settings import Settings
from server.cli import UserError, _executor_settings, build_parser


def _serve_args(*extra: str):
    return build_parser().parse_args(["serve", *extra])


def test_local_is_the_default(tmp_path):
    assert _executor_settings(_serve_args()) == {}
    assert factory_for(Settings(data_dir=tmp_path)) is default_factory


def test_ray_options_reach_the_run(tmp_path):
    pytest.importorskip("ray")
    options = _executor_settings(_serve_args("--executor", "ray", "--ray-address", "auto",
                                             "--workers", "4", "--gpus-per-worker", "1"))
    assert options == {"executor": "ray", "ray_address": "auto", "ray_workers": 4,
                       "ray_gpus_per_worker": 1.0, "ray_storage": None}
    run = factory_for(Settings(data_dir=tmp_path, **options))({"version": 1}, tmp_path / "r")
    assert (run.address, run.workers, run.gpus) == ("auto", 4, 1.0)  # built, not started


def test_bad_worker_counts_are_refused():
    pytest.importorskip("ray")
    with pytest.raises(UserError, match="--workers must be at least 1"):
        _executor_settings(_serve_args("--executor", "ray", "--workers", "0"))
