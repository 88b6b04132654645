"""Toy 2-D datasets in the spirit of the TensorFlow Playground, generated from a seed.

Each function draws `n_samples` points from its own numpy generator, so the
same params always give the same points. Coordinates lie roughly in [-1, 1]
so a small MLP trains without any scaling, and `noise` is a standard deviation
in those units. Like `prep`, these functions are pasted verbatim into exported
scripts: they use nothing but numpy and must stay self-contained.
"""

from __future__ import annotations

import numpy as np


def spiral(n_samples, noise, seed, classes=2):
    """Interleaved spiral arms, one per class, winding out from the centre."""
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % classes
    t = rng.uniform(0.0, 1.0, n_samples)  # position along the arm: 0 centre, 1 rim
    angle = 1.75 * 2 * np.pi * t + 2 * np.pi * y / classes
    x = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1)
    x += rng.normal(0.0, noise, x.shape)
    return x, y.astype(np.int64)


def circles(n_samples, noise, seed):
    """A disc (class 0) inside a ring (class 1)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % 2
    radius = np.where(y == 0, rng.uniform(0.0, 0.4, n_samples), rng.uniform(0.65, 1.0, n_samples))
    angle = rng.uniform(0.0, 2 * np.pi, n_samples)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    x += rng.normal(0.0, noise, x.shape)
    return x, y.astype(np.int64)


def moons(n_samples, noise, seed):
    """Two interleaving half circles, centred on the origin."""
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % 2
    angle = rng.uniform(0.0, np.pi, n_samples)
    upper = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    lower = np.stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)], axis=1)
    x = np.where(y[:, None] == 0, upper, lower)
    x = (x - [0.5, 0.25]) / 1.5  # centre and shrink into about [-1, 1]
    x += rng.normal(0.0, noise, x.shape)
    return x, y.astype(np.int64)


def xor(n_samples, noise, seed):
    """Four quadrants; class 1 where x1 and x2 have opposite signs."""
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % 2
    # a small gap along the axes keeps the classes apart when noise is 0
    size = rng.uniform(0.05, 1.0, (n_samples, 2))
    sign_x1 = rng.choice([-1.0, 1.0], n_samples)
    sign_x2 = np.where(y == 1, -sign_x1, sign_x1)
    x = size * np.stack([sign_x1, sign_x2], axis=1)
    x += rng.normal(0.0, noise, x.shape)
    return x, y.astype(np.int64)


def gaussian(n_samples, noise, seed):
    """Two round blobs; noise widens them until they overlap."""
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % 2
    centres = np.array([[0.5, 0.5], [-0.5, -0.5]])
    x = centres[y] + rng.normal(0.0, 0.15 + noise, (n_samples, 2))
    return x, y.astype(np.int64)


def sine(n_samples, noise, seed):
    """Regression of y = sin(pi * x) on x in [-1, 1]; targets shaped (N, 1)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (n_samples, 1))
    y = np.sin(np.pi * x) + rng.normal(0.0, noise, (n_samples, 1))
    return x, y


def plane(n_samples, noise, seed):
    """Regression of a tilted plane, y = (x1 + 2 * x2) / 3, over [-1, 1]^2."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (n_samples, 2))
    y = (x[:, :1] + 2 * x[:, 1:]) / 3 + rng.normal(0.0, noise, (n_samples, 1))
    return x, y
