"""The small real datasets that ship inside scikit-learn, so they work offline.

`sklearn_arrays` is the loader both `load_dataset` and exported scripts call
(it is pasted into them verbatim, so it may use only numpy and scikit-learn).
Digits become `(N, 1, 8, 8)` images; regression targets become `(N, 1)`.
Importing scikit-learn takes a second or more, so the registry imports this
module only when data is actually loaded.
"""

from __future__ import annotations

import numpy as np
from sklearn import datasets as sk_datasets


def sklearn_arrays(name):
    """(x, y) numpy arrays of one scikit-learn toy dataset, e.g. 'iris'."""
    bunch = getattr(sk_datasets, "load_" + name)()
    x, y = bunch.data, bunch.target
    if name == "digits":
        x = x.reshape(-1, 1, 8, 8)  # (N, 1, 8, 8), a one-channel image
    if np.issubdtype(y.dtype, np.integer):
        return x, y.astype(np.int64)
    return x, y.reshape(-1, 1).astype(np.float64)  # regression targets (N, 1)
