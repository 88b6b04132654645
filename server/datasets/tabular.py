"""The small real datasets that ship inside scikit-learn, so they work offline.

`sklearn_arrays` is the loader both `load_dataset` and exported scripts call
(it is pasted into them verbatim, so it may use only numpy and scikit-learn).
An image set (digits) is reshaped to its registry row's image shape, e.g.
`(N, 1, 8, 8)`; regression targets become `(N, 1)`. `sklearn_image_targets` makes
the images themselves the targets (autoencoders, generators).
Importing scikit-learn takes a second or more, so the registry imports this
module only when data is actually loaded.
"""

from __future__ import annotations

import numpy as np
from sklearn import datasets as sk_datasets


def sklearn_arrays(name, image_shape=None):
    """(x, y) numpy arrays of one scikit-learn toy dataset, e.g. 'iris'.

    image_shape, e.g. (1, 8, 8) for digits, turns each flat row into an image.
    """
    bunch = getattr(sk_datasets, "load_" + name)()
    x, y = bunch.data, bunch.target
    if image_shape is not None:
        x = x.reshape(-1, *image_shape)
    if np.issubdtype(y.dtype, np.integer):
        return x, y.astype(np.int64)
    return x, y.reshape(-1, 1).astype(np.float64)  # regression targets (N, 1)


def sklearn_image_targets(name, image_shape, scale, given):
    """(x, y) for networks whose output is an image: y is each image, flat, scaled to 0..1.

    given="image": x is the same image, shaped image_shape (an autoencoder learns to
    reproduce its input); given="label": x is the image's class as a one-hot
    (classes, 1, 1) tensor, the shape a DCGAN generator's noise has (it learns to draw
    each class).
    """
    bunch = getattr(sk_datasets, "load_" + name)()
    images = (bunch.data * scale).astype(np.float32)
    if given == "image":
        x = images.reshape(-1, *image_shape)
    else:
        classes = int(bunch.target.max()) + 1
        x = np.eye(classes, dtype=np.float32)[bunch.target].reshape(-1, classes, 1, 1)
    return x, images.reshape(len(images), -1)
