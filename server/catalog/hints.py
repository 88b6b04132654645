"""What to say about a layer type torchcanvas does not know.

Learners arrive with names from elsewhere: Keras (`Dense`, `Conv2DTranspose`),
tutorials (`fc`, `conv`), lower case (`softmax`) or a real `torch.nn` class the
catalogue lacks (`Conv3d`). The hint names the catalogue entry they most likely
meant, and says plainly when PyTorch has the class but torchcanvas does not yet.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from torch import nn

# Other names for catalogue entries, keyed by the lower-case name without
# punctuation. Keras names first, then common abbreviations and functions.
ALIASES = {
    "dense": "Linear", "fc": "Linear", "fullyconnected": "Linear", "linearlayer": "Linear",
    "perceptron": "Linear", "mlp": "Linear",
    "conv": "Conv2d", "convolution": "Conv2d", "conv2": "Conv2d", "convolution2d": "Conv2d",
    "convolution1d": "Conv1d", "conv2dtranspose": "ConvTranspose2d",
    "conv1dtranspose": "ConvTranspose1d", "deconv": "ConvTranspose2d",
    "deconv2d": "ConvTranspose2d", "deconvolution": "ConvTranspose2d",
    "transposedconv": "ConvTranspose2d", "upsampling2d": "Upsample",
    "upsampling1d": "Upsample", "interpolate": "Upsample", "depthtospace": "PixelShuffle",
    "spacetodepth": "PixelUnshuffle",
    "batchnorm": "BatchNorm2d", "batchnormalization": "BatchNorm2d", "bn": "BatchNorm2d",
    "layernormalization": "LayerNorm", "ln": "LayerNorm", "groupnormalization": "GroupNorm",
    "instancenorm": "InstanceNorm2d", "instancenormalization": "InstanceNorm2d",
    "maxpool": "MaxPool2d", "maxpooling2d": "MaxPool2d", "maxpooling1d": "MaxPool1d",
    "pool": "MaxPool2d", "pooling": "MaxPool2d", "avgpool": "AvgPool2d",
    "averagepooling2d": "AvgPool2d", "averagepooling1d": "AvgPool1d",
    "globalaveragepooling2d": "AdaptiveAvgPool2d", "globalavgpool": "AdaptiveAvgPool2d",
    "globalaveragepooling1d": "AdaptiveAvgPool1d", "globalmaxpooling2d": "AdaptiveMaxPool2d",
    "zeropadding2d": "ZeroPad2d", "padding": "ZeroPad2d", "pad": "ZeroPad2d",
    "relu": "ReLU", "leakyrelu": "LeakyReLU", "prelu": "PReLU", "swish": "SiLU",
    "hardswish": "Hardswish", "hswish": "Hardswish", "softmax": "Softmax",
    "logsoftmax": "LogSoftmax", "activation": "ReLU",
    "dropout": "Dropout", "spatialdropout2d": "Dropout2d", "spatialdropout1d": "Dropout1d",
    "droppath": "StochasticDepth",
    "flatten": "Flatten", "view": "Reshape", "reshape": "Reshape", "input": "Input",
    "inputlayer": "Input", "placeholder": "Input",
    "concatenate": "Concat", "cat": "Concat", "concatenation": "Concat", "add": "Add",
    "plus": "Add", "residual": "Add", "sum": "Sum", "multiply": "Mul", "mult": "Mul",
    "product": "Mul", "subtract": "Sub", "minus": "Sub", "dot": "MatMul", "bmm": "MatMul",
    "mm": "MatMul", "average": "Mean", "reducemean": "Mean", "reducesum": "Sum",
    "swapaxes": "Transpose", "randn": "RandnLike", "noise": "RandnLike",
    "gaussiannoise": "RandnLike", "scale": "Scale", "rescale": "Scale",
    "simplernn": "RNN", "cudnnlstm": "LSTM", "lstmcell": "LSTM", "grucell": "GRU",
    "rnncell": "RNN", "attention": "MultiheadAttention", "selfattention": "MultiheadAttention",
    "multiheadselfattention": "MultiheadAttention", "mha": "MultiheadAttention",
    "sdpa": "ScaledDotProductAttention", "flashattention": "ScaledDotProductAttention",
    "causalselfattention": "ScaledDotProductAttention",
    "transformer": "TransformerEncoderLayer", "transformerblock": "TransformerEncoderLayer",
    "transformerencoder": "TransformerEncoderLayer",
    "transformerdecoder": "TransformerDecoderLayer",
    "positionalencoding": "PositionalEmbedding", "posembedding": "PositionalEmbedding",
    "wordembedding": "Embedding", "tokenembedding": "Embedding",
}


def _key(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


def _torch_nn_module(name: str) -> bool:
    cls = getattr(nn, name, None)
    return isinstance(cls, type) and issubclass(cls, nn.Module)


def suggest(name: str, known: Iterable[str]) -> str:
    """The hint that follows "unknown layer type 'X'": starts with "; " or is empty."""
    known = list(known)
    by_key = {_key(k): k for k in known}
    key = _key(name)
    meant = by_key.get(key) or ALIASES.get(key)
    if meant not in known or meant == name:
        close = difflib.get_close_matches(name, known, n=1)
        meant = close[0] if close else None
    if _torch_nn_module(name):
        also = f" (closest here: {meant})" if meant else ""
        return f"; torch.nn.{name} exists but torchcanvas has no {name} yet{also}"
    return f"; did you mean {meant}?" if meant else ""
