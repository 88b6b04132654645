"""The dataset registry: every dataset torchcanvas can train on, behind five functions.

`dataset_catalog()` lists them for the browser, `describe_dataset` answers
shape and class questions cheaply, `load_dataset` returns the training and
validation data, `preview_dataset` a few samples as JSON, and `script_source`
the `load_data` function an exported script pastes in. Adding a dataset is one
row in `registry.DATASETS` (plus, for a new source, its loader) and one test row.
"""

from .base import DatasetError, DatasetInfo, LoadedData
from .loader import load_dataset, preview_dataset
from .registry import DATASETS, dataset_catalog, describe_dataset
from .source import script_source

__all__ = [
    "DATASETS", "DatasetError", "DatasetInfo", "LoadedData", "dataset_catalog",
    "describe_dataset", "load_dataset", "preview_dataset", "script_source",
]
