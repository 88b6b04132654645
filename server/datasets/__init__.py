"""The dataset registry: every dataset torchcanvas can train on, behind five functions.

`dataset_catalog()` lists them for the browser, `describe_dataset` answers
shape and class questions cheaply, `load_dataset` returns the training and
validation data, `preview_dataset` a few samples as JSON, and `script_source`
the `load_data` function an exported script pastes in. Adding a dataset is one
row in `registry.DATASETS` (plus, for a new source, its loader) and one test row.

Decisions, in one place:
- Split: `prep.split_indices` shuffles with numpy's `default_rng(seed)`; the
  validation part is round(N * val_fraction) samples, at least 1 when the
  fraction is above 0 and at most N - 1; seed None gives a fresh shuffle.
  torchvision sets split their official training set (the test set is unused).
- Scaling: tabular features (scikit-learn and CSV) are standardized with the
  training part's mean and std; regression targets of diabetes and CSV files
  too (`LoadedData.target_mean`/`target_std` keep the original scale), so MSE
  starts near 1; generated sets are left in their natural [-1, 1] range; pixels
  are scaled to 0..1 (digits / 16, torchvision sets / 255).
- In memory: everything but `imagefolder`, including MNIST, Fashion-MNIST and
  CIFAR-10 (read through torchvision's classes, then held as tensors, batched
  by indexing). `imagefolder` gives `Subset`s of an `ImageFolder` for a
  DataLoader with workers.
- Data root: the `root` argument, else `$TORCHCANVAS_DATA`, else
  `$XDG_CACHE_HOME/torchcanvas/data`, else `~/.cache/torchcanvas/data`.
- CSV task rule: see `csvfile`; a `task` param overrides "auto".
"""

from .base import DatasetError, DatasetInfo, LoadedData
from .loader import download, load_dataset, preview_dataset, unavailable
from .registry import DATASETS, dataset_catalog, describe_dataset
from .source import script_source

__all__ = [
    "DATASETS", "DatasetError", "DatasetInfo", "LoadedData", "dataset_catalog",
    "describe_dataset", "download", "load_dataset", "preview_dataset", "script_source",
    "unavailable",
]
