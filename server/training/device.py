"""Choosing the device a run trains on.

`auto` prefers CUDA, then Apple's MPS, then the CPU. A device named explicitly
that this machine does not have is an error before training starts, so a graph
saved on a GPU box fails clearly elsewhere rather than silently training on CPU.
"""

from __future__ import annotations

import torch

from .errors import DeviceError


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def available_devices() -> list[str]:
    """Device names this machine can train on, best first."""
    out = [f"cuda:{i}" for i in range(torch.cuda.device_count())] if torch.cuda.is_available() \
        else []
    if _mps_available():
        out.append("mps")
    return [*out, "cpu"]


def resolve_device(name: str | None) -> torch.device:
    """The torch.device for a graph's `training.device` (`auto`, `cpu`, `cuda[:N]`, `mps`)."""
    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise DeviceError(f"unknown device {name!r}: use auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cpu":
        return device
    have = ", ".join(available_devices())
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0 or (device.index is not None and device.index >= count):
            raise DeviceError(f"device {name!r} is not available on this machine "
                              f"(available: {have})")
        return device
    if device.type == "mps":
        if not _mps_available():
            raise DeviceError(f"device 'mps' is not available on this machine (available: {have})")
        return device
    raise DeviceError(f"unsupported device {name!r}: use auto, cpu, cuda, cuda:N or mps")


def amp_dtype(device_type: str, bf16_supported: bool) -> torch.dtype | None:
    """The autocast dtype for `amp: true`: bf16 where the card has it, else fp16; None off CUDA.

    bf16 keeps float32's exponent range, so it needs no loss scaling; fp16 does
    (a GradScaler, enabled only then). Mixed precision is CUDA-only here.
    """
    if device_type != "cuda":
        return None
    return torch.bfloat16 if bf16_supported else torch.float16


def cuda_bf16_supported(device: torch.device) -> bool:
    """Whether this CUDA device computes in bf16 natively (Ampere and newer)."""
    return device.type == "cuda" and torch.cuda.is_bf16_supported()
