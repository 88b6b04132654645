"""The split and the scaling every in-memory dataset goes through, written to be pasted.

These functions are used by `load_dataset` and copied verbatim (with
`inspect.getsource`) into exported training scripts, so a script splits and
scales its data exactly as the run it came from did. Hence they import nothing
but numpy and torch, call nothing else from torchcanvas, and must stay that way.
"""

from __future__ import annotations

import numpy as np
import torch


def split_indices(n, val_fraction, seed):
    """Shuffle range(n) with `seed` and cut it into (train, val) index arrays.

    The validation part is round(n * val_fraction) samples, at least one when
    val_fraction > 0 and at most n - 1, so both parts exist. seed None shuffles
    differently every time.
    """
    n_val = int(round(n * val_fraction))
    if val_fraction > 0:
        n_val = max(n_val, 1)
    n_val = max(min(n_val, n - 1), 0)
    order = np.random.default_rng(seed).permutation(n)
    return order[n_val:], order[:n_val]


def split_arrays(x, y, val_fraction, seed, scale_x=None, standardize_y=False):
    """Split numpy arrays and turn them into tensors ready for training.

    x: (N, ...) features. scale_x: None keeps x; a number multiplies it (pixel
    ranges to 0..1); "standardize" gives each feature mean 0 and std 1 using
    statistics of the training part only, so nothing leaks from validation.
    y: (N,) integer class labels, or (N, k) float regression targets, which are
    standardized the same way when standardize_y. Returns (x_train, y_train,
    x_val, y_val, y_mean, y_std); y_mean and y_std are None unless standardize_y.
    """
    train, val = split_indices(len(x), val_fraction, seed)
    x_train, x_val = x[train], x[val]
    y_train, y_val = y[train], y[val]
    if isinstance(scale_x, str):
        x_train, x_val = x_train.astype(np.float64), x_val.astype(np.float64)
        mean = x_train.mean(axis=0)
        std = x_train.std(axis=0)
        std[std < 1e-12] = 1.0  # a constant feature stays constant instead of dividing by 0
        x_train, x_val = (x_train - mean) / std, (x_val - mean) / std
    elif scale_x is not None:
        # float32 before scaling: 60k MNIST images in float64 would double the memory
        scale = np.float32(scale_x)
        x_train, x_val = x_train.astype(np.float32) * scale, x_val.astype(np.float32) * scale
    y_mean = y_std = None
    if standardize_y:
        y_mean = y_train.mean(axis=0)
        y_std = y_train.std(axis=0)
        y_std[y_std < 1e-12] = 1.0
        y_train, y_val = (y_train - y_mean) / y_std, (y_val - y_mean) / y_std
        y_mean, y_std = y_mean.tolist(), y_std.tolist()
    y_type = torch.int64 if np.issubdtype(y.dtype, np.integer) else torch.float32
    return (
        torch.as_tensor(np.ascontiguousarray(x_train), dtype=torch.float32),
        torch.as_tensor(np.ascontiguousarray(y_train), dtype=y_type),
        torch.as_tensor(np.ascontiguousarray(x_val), dtype=torch.float32),
        torch.as_tensor(np.ascontiguousarray(y_val), dtype=y_type),
        y_mean,
        y_std,
    )


def split_sequences(x, y, val_fraction, seed):
    """Split sequence arrays as split_indices does, keeping token ids as int64.

    x: int64 token ids (N, T), or floats (N, T, F); y: int64 class indices
    (N,) or (N, T), or float targets (N, k). Nothing is scaled: ids are ids and
    the generated waves already lie in [-1, 1]. Returns (x_train, y_train,
    x_val, y_val).
    """
    train, val = split_indices(len(x), val_fraction, seed)

    def tensor(a):
        kind = torch.int64 if np.issubdtype(a.dtype, np.integer) else torch.float32
        return torch.as_tensor(np.ascontiguousarray(a), dtype=kind)

    return tensor(x[train]), tensor(y[train]), tensor(x[val]), tensor(y[val])
