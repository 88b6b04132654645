"""The small real datasets that ship inside scikit-learn, so they work offline.

`sklearn_arrays` is the loader both `load_dataset` and exported scripts call
(it is pasted into them verbatim, so it may use only numpy and scikit-learn,
imported inside the function so that listing the catalogue stays cheap).
Digits become `(N, 1, 8, 8)` images; regression targets become `(N, 1)`.
"""

from __future__ import annotations


def sklearn_arrays(name):
    """(x, y) numpy arrays of one scikit-learn toy dataset, e.g. 'iris'."""
    import numpy as np
    from sklearn import datasets

    bunch = getattr(datasets, "load_" + name)()
    x, y = bunch.data, bunch.target
    if name == "digits":
        x = x.reshape(-1, 1, 8, 8)  # (N, 1, 8, 8) like a one-channel image
    if np.issubdtype(y.dtype, np.integer):
        return x, y.astype(np.int64)
    return x, y.reshape(-1, 1).astype(np.float64)
