"""nn: layers, losses, optimizers and training on top of autograd_lite, with PyTorch's names.

    import nn
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    opt = nn.SGD(model.parameters(), lr=0.1)
"""
import os

from autograd_lite.anomaly import skip_file_prefix

from . import init, utils
from .module import *          # noqa: F401,F403  Module, Parameter, Sequential, ModuleList
from .layers import *          # noqa: F401,F403  Linear, Conv2d, MaxPool2d, Flatten, Dropout
from .conv import *            # noqa: F401,F403  conv2d, pad
from .pooling import *         # noqa: F401,F403  AvgPool2d, AdaptiveAvgPool2d, max_pool2d, ...
from .embedding import *       # noqa: F401,F403  Embedding
from .containers import *      # noqa: F401,F403  ModuleDict, ParameterList, ParameterDict
from .batchnorm import *       # noqa: F401,F403  BatchNorm1d, BatchNorm2d, LayerNorm
from .rnn import *             # noqa: F401,F403  RNN, LSTM, GRU
from .activations import *     # noqa: F401,F403  Tanh, ..., GELU, SiLU, ELU, Softplus, Softmax, ...
from .mlp import *             # noqa: F401,F403  MLP
from .serialization import *   # noqa: F401,F403  save, load
from .torch_bridge import *    # noqa: F401,F403  to_torch, from_torch
from .onnx_export import *     # noqa: F401,F403  export_onnx
from .losses import *          # noqa: F401,F403  mse_loss, ..., MSELoss, ...
from .optim import *           # noqa: F401,F403  SGD, RMSprop, Adagrad, Adam, AdamW
from .lr_scheduler import *    # noqa: F401,F403  StepLR, ExponentialLR, CosineAnnealingLR, ReduceLROnPlateau
from .one_cycle import *       # noqa: F401,F403  OneCycleLR
from .lr_composition import *  # noqa: F401,F403  SequentialLR, ChainedScheduler
from .training import *        # noqa: F401,F403  fit, predict, score

skip_file_prefix(os.path.dirname(__file__))  # anomalies point at the user's line, not nn's
