"""Device choice and mixed-precision flags, on a machine without a GPU.

The CUDA paths themselves need a card; what decides them is plain and tested here.
"""

from __future__ import annotations

import pytest
import torch

from server.graph import parse_graph
from server.training.device import amp_dtype, resolve_device
from server.training.errors import DeviceError
from server.training.setup import build_run

from .graphs import mlp


def test_amp_picks_bf16_where_supported_else_fp16_and_nothing_off_cuda():
    assert amp_dtype("cuda", bf16_supported=True) is torch.bfloat16
    assert amp_dtype("cuda", bf16_supported=False) is torch.float16
    assert amp_dtype("cpu", bf16_supported=True) is None
    assert amp_dtype("mps", bf16_supported=False) is None


def test_auto_is_cuda_when_there_is_one_else_cpu_here():
    expected = "cuda" if torch.cuda.is_available() else \
        ("mps" if torch.backends.mps.is_available() else "cpu")
    assert resolve_device("auto").type == expected
    assert resolve_device(None).type == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_asked_for_and_absent_is_a_clear_error():
    for name in ("cuda", "cuda:0", "CUDA:1"):
        with pytest.raises(DeviceError, match="not available on this machine"):
            resolve_device(name)


def test_unknown_device_strings_are_refused_clearly():
    for name in ("gpu", "cuda:x", "tpu0", ""):
        if name == "":
            assert resolve_device(name).type in ("cuda", "mps", "cpu")  # empty means auto
            continue
        with pytest.raises(DeviceError, match="device"):
            resolve_device(name)


def test_amp_on_cpu_trains_in_float32_without_a_scaler():
    run = build_run(parse_graph(mlp(amp=True)))
    assert run.device.type == "cpu" and not run.amp and run.amp_dtype is None
    assert not run.scaler.is_enabled()
