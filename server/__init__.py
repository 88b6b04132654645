"""torchcanvas: a visual network builder for PyTorch.

The package is layered: `graph` (the v1 file format) and `catalog` (every layer,
loss, optimizer and scheduler) are the foundation; `validation` infers shapes
and reports errors; `compiler` builds an `nn.Module`; `export` writes PyTorch
code; `datasets` and `training` train it; `app` serves it all over HTTP.
"""

__version__ = "0.1.0"
