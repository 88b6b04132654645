"""Other names people search the palette by: `dense` is Keras's Linear, `fc` the papers'.

Search words only (the browser matches them like a type name); they never become
types, so a graph still names `Linear`, never `Dense`. Keyed by catalogue type;
a type missing here simply has no other names.
"""

from __future__ import annotations

ALIASES: dict[str, tuple[str, ...]] = {
    "Input": ("data", "placeholder", "features"),
    "Linear": ("dense", "fc", "fully connected", "fully-connected", "perceptron", "mlp",
               "affine", "matmul"),
    "Conv1d": ("conv", "convolution", "temporal convolution"),
    "Conv2d": ("conv", "convolution", "cnn", "filter", "kernel"),
    "MaxPool1d": ("pool", "pooling", "downsample", "subsample"),
    "MaxPool2d": ("pool", "pooling", "downsample", "subsample"),
    "AvgPool2d": ("pool", "pooling", "average", "mean", "downsample"),
    "AdaptiveAvgPool2d": ("global average pooling", "gap", "pool"),
    "BatchNorm1d": ("bn", "batch normalization", "batchnorm", "normalisation"),
    "BatchNorm2d": ("bn", "batch normalization", "batchnorm", "normalisation"),
    "LayerNorm": ("ln", "layer normalization", "normalisation"),
    "Dropout": ("regularization", "regularisation", "drop"),
    "Dropout2d": ("spatial dropout", "drop"),
    "Flatten": ("reshape", "view", "vectorize"),
    "Unflatten": ("reshape", "view"),
    "Reshape": ("view", "flatten"),
    "Identity": ("skip", "pass", "noop"),
    "ReLU": ("activation", "nonlinearity", "rectifier"),
    "LeakyReLU": ("activation", "nonlinearity", "lrelu"),
    "ELU": ("activation", "nonlinearity"),
    "GELU": ("activation", "nonlinearity", "transformer"),
    "SiLU": ("swish", "activation", "nonlinearity"),
    "Sigmoid": ("logistic", "activation", "squash"),
    "Tanh": ("activation", "hyperbolic tangent"),
    "Softmax": ("probabilities", "normalize", "classifier output"),
    "LogSoftmax": ("log probabilities", "softmax"),
    "Add": ("sum", "residual", "skip connection", "plus", "merge"),
    "Concat": ("concatenate", "cat", "stack", "join", "merge"),
    "CrossEntropyLoss": ("cross entropy", "ce", "softmax loss", "classification", "log loss"),
    "NLLLoss": ("negative log likelihood", "classification"),
    "BCEWithLogitsLoss": ("binary cross entropy", "bce", "logistic loss", "sigmoid"),
    "BCELoss": ("binary cross entropy", "bce"),
    "MSELoss": ("mean squared error", "l2", "regression", "squared"),
    "L1Loss": ("mean absolute error", "mae", "regression"),
    "SmoothL1Loss": ("huber", "regression"),
    "HuberLoss": ("smooth l1", "regression"),
    "SGD": ("gradient descent", "momentum", "optimiser"),
    "Adam": ("optimiser", "adaptive"),
    "AdamW": ("weight decay", "optimiser"),
    "RMSprop": ("optimiser", "adaptive"),
    "Adagrad": ("optimiser", "adaptive"),
    "StepLR": ("learning rate schedule", "decay"),
    "ExponentialLR": ("learning rate schedule", "decay"),
    "CosineAnnealingLR": ("cosine", "learning rate schedule"),
    "OneCycleLR": ("one cycle", "warmup", "learning rate schedule"),
    "ReduceLROnPlateau": ("plateau", "learning rate schedule"),
}
