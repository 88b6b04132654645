"""The small real datasets that ship inside scikit-learn, so they work offline.

`sklearn_arrays` is the loader both `load_dataset` and exported scripts call
(it is pasted into them verbatim, so it may use only numpy and scikit-learn).
An image set (digits) is reshaped to its registry row's image shape, e.g.
`(N, 1, 8, 8)`; regression targets become `(N, 1)`.
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
