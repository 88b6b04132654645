"""Image datasets read through torchvision's own classes: MNIST, Fashion-MNIST, CIFAR-10, folders.

The three torchvision sets are small enough to hold in memory as uint8, so
`torchvision_arrays` takes their decoded arrays once and training batches them
by indexing, which is far faster than a per-sample DataLoader. A folder of
images is different: files are decoded on demand by `ImageFolder`, so it stays
a Dataset for a DataLoader with workers. The functions here (not the error
handling, which lives in the loader) are pasted verbatim into exported scripts.
Importing torchvision is slow, so the registry imports this module lazily.
"""

from __future__ import annotations

import os

import numpy as np
from torchvision import datasets as tv_datasets
from torchvision import transforms


def default_data_root():
    """Where downloaded datasets live: $TORCHCANVAS_DATA, else the user's cache folder."""
    if os.environ.get("TORCHCANVAS_DATA"):
        return os.path.expanduser(os.environ["TORCHCANVAS_DATA"])
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "torchcanvas", "data")


def torchvision_arrays(class_name, root):
    """(x, y) of a torchvision training set: x uint8 (N, C, H, W), y int64 (N,)."""
    dataset_class = getattr(tv_datasets, class_name)
    ds = dataset_class(root, train=True, download=True)
    data = np.asarray(ds.data)
    if data.ndim == 3:  # MNIST-style grey images (N, H, W)
        x = data[:, None]
    else:  # CIFAR-style colour images (N, H, W, C)
        x = data.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(x), np.asarray(ds.targets, dtype=np.int64)


def image_folder(path, resize, grayscale, normalize):
    """An ImageFolder whose samples are (C, resize, resize) float tensors.

    Pixels are 0..1, or -1..1 with normalize (mean 0.5, std 0.5 per channel);
    grayscale gives one channel, otherwise three.
    """
    steps = [transforms.Resize((resize, resize))]
    if grayscale:
        steps.append(transforms.Grayscale(num_output_channels=1))
    steps.append(transforms.ToTensor())
    if normalize:
        channels = 1 if grayscale else 3
        steps.append(transforms.Normalize([0.5] * channels, [0.5] * channels))
    return tv_datasets.ImageFolder(path, transform=transforms.Compose(steps))
