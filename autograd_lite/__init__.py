"""autograd_lite: reverse-mode automatic differentiation on numpy arrays.

    from autograd_lite import Value
    x = Value([1.0, 2.0, 3.0])
    y = (x * x).sum()
    y.backward()
    x.grad  # array([2., 4., 6.])
"""
from .anomaly import AnomalyError, detect_anomaly
from .autograd import backward, grad
from .check_gradients import GradientReport, check_gradients
from .functional import conv2d, log_softmax, max_pool2d, softmax
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck, numerical_grad
from .gradient_flow import plot_gradient_flow
from .graph import draw_graph, save_graph
from .ops import concatenate, linear, maximum, minimum, stack, where
from .seeding import default_generator, manual_seed
from .value import Value

__version__ = "0.1.0"

__all__ = [
    "Value", "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "gradcheck", "gradgradcheck", "numerical_grad", "GradcheckError",
    "detect_anomaly", "AnomalyError", "manual_seed", "default_generator",
    "concatenate", "stack", "where", "maximum", "minimum", "linear", "softmax", "log_softmax",
    "conv2d", "max_pool2d",
    "check_gradients", "GradientReport",
    "draw_graph", "save_graph", "plot_gradient_flow",
]
