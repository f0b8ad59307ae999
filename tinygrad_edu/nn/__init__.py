"""`tinygrad_edu.nn`: modules, layers, losses, initialisation and functions.

    from tinygrad_edu import nn
    from tinygrad_edu.nn import functional as F

    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
    loss = nn.MSELoss()(model(x), y)

Where things live: module.py (`Module`, `Parameter`), layers/ (one file per family of
layers), losses.py, init.py (`nn.init.kaiming_uniform_` ...), functional.py (the
functions the layers call).
"""

from . import functional, init
from .layers import (
    CELU,
    ELU,
    GELU,
    LSTM,
    RNN,
    SELU,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv1d,
    Conv2d,
    ConvTranspose2d,
    Dropout,
    Embedding,
    Flatten,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSigmoid,
    LogSoftmax,
    MaxPool2d,
    Mish,
    ModuleList,
    MultiheadAttention,
    ReLU,
    ReLU6,
    Sequential,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softsign,
    Tanh,
    TransformerEncoderLayer,
    Upsample,
)
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module, Parameter

__all__ = [
    "CELU",
    "ELU",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "LogSigmoid",
    "Mish",
    "ReLU6",
    "SELU",
    "SiLU",
    "Softmin",
    "Softsign",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "ConvTranspose2d",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "GELU",
    "Identity",
    "LSTM",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "MultiheadAttention",
    "Module",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "RNN",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "TransformerEncoderLayer",
    "Upsample",
    "functional",
    "init",
]
