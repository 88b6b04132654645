"""Size limits are settings: defaults that take VGG-11, flags and environment that lower them."""

from __future__ import annotations

import resource

import pytest
import torchvision

from server.cli import main
from server.importers import import_source
from server.validation import Limits, validate_graph


def test_vgg11_validates_on_the_meta_device_without_allocating():
    # torchvision/models/vgg.py: vgg11, 132,863,336 parameters (about 530 MB of float32).
    graph = import_source("torchvision:vgg11").graph
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = validate_graph(graph)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert report.valid, report.all_errors()
    assert report.total_params == sum(
        p.numel() for p in torchvision.models.vgg11(weights=None).parameters())
    assert grown_mb < 100, f"validation grew the process by {grown_mb:.0f} MB"


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("TORCHCANVAS_MAX_PARAMS", "1_000")
    monkeypatch.setenv("TORCHCANVAS_MAX_NODES", "3")
    assert Limits.from_env() == Limits(max_nodes=3, max_params=1000)
    monkeypatch.setenv("TORCHCANVAS_MAX_NODES", "many")
    with pytest.raises(ValueError, match="TORCHCANVAS_MAX_NODES='many' is not a whole number"):
        Limits.from_env()


def test_cli_flags_lower_the_limits(tmp_path, capsys, monkeypatch):
    # main() writes the flags into os.environ: monkeypatch puts the old values back.
    monkeypatch.setenv("TORCHCANVAS_MAX_PARAMS", str(Limits.max_params))
    monkeypatch.setenv("TORCHCANVAS_MAX_NODES", str(Limits.max_nodes))
    path = "examples/seed_cnn.json"
    assert main(["validate", path]) == 0
    capsys.readouterr()
    assert main(["validate", path, "--max-params", "1000"]) == 1
    assert "more than the limit of 1,000" in capsys.readouterr().err
    assert main(["export", path, "--max-nodes", "2"]) == 1
    assert "more than the limit of 2" in capsys.readouterr().err
    assert main(["validate", path, "--max-nodes", "0"]) == 1
    assert "--max-nodes must be at least 1" in capsys.readouterr().err
