"""Which datasets can be read here now, and how to get the others (issue 12, item 7)."""

from __future__ import annotations

import pytest

from server.cli import main
from server.datasets import DatasetError, download, unavailable


def test_generated_and_bundled_sets_are_always_available(data_root):
    assert unavailable("circles") is None and unavailable("digits") is None


def test_mnist_without_its_files_says_how_to_get_them_without_a_server_path(data_root):
    why = unavailable("mnist")
    assert why and "torchcanvas download mnist" in why and "MNIST/raw/" in why
    assert str(data_root) not in why


def test_mnist_with_its_files_is_available(fake_mnist):
    fake_mnist("MNIST")
    assert unavailable("mnist") is None


def test_download_refuses_names_it_does_not_know_and_skips_generated_sets(data_root, capsys):
    assert "needs no download" in download("moons")
    with pytest.raises(DatasetError):
        download("nope")
    assert main(["download", "nope"]) == 1
    # Offline (the fixture cuts the network): it fails with the reason, never hangs.
    with pytest.raises(DatasetError, match="could not be downloaded"):
        download("mnist")
