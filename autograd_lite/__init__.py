"""autograd_lite: reverse-mode automatic differentiation on numpy arrays.

    from autograd_lite import Value
    x = Value([1.0, 2.0, 3.0])
    y = (x * x).sum()
    y.backward()
    x.grad  # array([2., 4., 6.])

The layers, bottom to top (each module imports only those below it):
grad_mode, anomaly, scopes, side_effects, versions -> value (the type, `apply`) -> ops (the
op table) -> backprop (backward, grad) -> functional -> numpy_api (numpy's functions
on values) -> tools (numerical, hand_gradients, graph_picture, gradient_plot, func).
"""
from .anomaly import AnomalyError, detect_anomaly
from .backprop import backward, grad
from .functional import (concatenate, conv2d, linear, log_softmax, max_pool2d, maximum, minimum,
                         softmax, stack, where)
from . import numpy_ops  # noqa: F401  (registers the ops)
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradient_plot import plot_gradient_flow
from .graph_page import graph_page, show
from .graph_picture import draw_graph, save_graph
from .hand_gradients import GradientReport, check_gradients
from .numerical import GradcheckError, gradcheck, gradgradcheck, numerical_grad
from . import numpy_api  # noqa: F401  numpy's own functions on values: np.tanh(v), np.dot(W, v)
from .scopes import scope
from .side_effects import side_effect
from .seeding import default_generator, manual_seed
from .value import Value
from .compile import CompiledFunction, compile  # noqa: A001  trace once, replay as NumPy
from . import func  # function transforms (torch.func): func.grad, func.jacrev ...

__version__ = "0.1.0"

__all__ = [
    "Value", "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "gradcheck", "gradgradcheck", "numerical_grad", "GradcheckError",
    "detect_anomaly", "AnomalyError", "manual_seed", "default_generator", "scope",
    "side_effect",
    "concatenate", "stack", "where", "maximum", "minimum", "linear", "softmax", "log_softmax",
    "conv2d", "max_pool2d",
    "check_gradients", "GradientReport",
    "draw_graph", "save_graph", "graph_page", "show", "plot_gradient_flow",
]
