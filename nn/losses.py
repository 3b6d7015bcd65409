"""Loss functions, as functions (`nn.mse_loss`) and as modules (`nn.MSELoss()`), with PyTorch's names.

Each loss is engine operations, so its gradient comes from the engine's op
table. This file checks the arguments. Each takes `reduction="mean"` (average
over elements), `"sum"` or `"none"` (one loss per element); the class-index
losses (`cross_entropy`, `nll_loss`, in classification.py) average over samples,
weighted when given class weights, and `kl_div` also takes "batchmean".

`mse_loss`, `binary_cross_entropy`, `binary_cross_entropy_with_logits` and
`cross_entropy` are one primitive each in their plain form (as PyTorch runs
each as one kernel); an option (a weight, a pos_weight, ...) switches to the
same formula composed from engine ops.

Numerical stability is part of the formulas, not an afterthought:
- `binary_cross_entropy_with_logits` is softplus(x) - x*y with softplus computed
  as a log-sum-exp, i.e. max(x, 0) + log(1 + exp(-|x|)) - x*y;
- `binary_cross_entropy` clamps each log at -100, as PyTorch does, so a
  saturated sigmoid (probability exactly 0 or 1) gives a finite loss and a
  zero gradient instead of inf or NaN;
- `cross_entropy` goes through `log_softmax` (log-sum-exp), never log(softmax).

Targets may be numpy arrays, lists or `Value`s. A numpy target is converted
to the input's dtype, so a float32 model stays float32. Shapes must match
exactly: PyTorch only warns when (N, 1) outputs meet (N,) targets and then
broadcasts them to (N, N), a classic silent bug; here it is a ValueError.
"""
import inspect
import warnings

import numpy as np

from autograd_lite import Value, ops, where

from .activations import softplus
from .classification import cross_entropy, nll_loss
from .module import Module
from .reductions import REDUCTIONS, as_value, check_reduction, reduce

__all__ = ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "kl_div",
           "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss",
           "CrossEntropyLoss", "NLLLoss", "KLDivLoss"]


def _inputs(name, input, target, reduction):
    """Check the reduction, wrap the input, convert the target, and insist on equal shapes."""
    check_reduction(name, reduction)
    input = as_value(input)
    if not isinstance(target, Value):
        target = np.asarray(target, dtype=input.dtype)
    if np.shape(target) != input.shape:
        hint = ""
        if input.size == np.size(target):
            hint = f" (reshape the target, e.g. target.reshape{input.shape})"
        raise ValueError(f"{name}: input shape {input.shape} and target shape "
                         f"{np.shape(target)} must be the same{hint}")
    return input, target


def _elementwise_weight(name, what, weight, input):
    """A weight that broadcasts to the input's shape (a Value, or a numpy array or list, made
    the input's dtype), or None."""
    if weight is None:
        return None
    shape = input.shape
    if not isinstance(weight, Value):
        weight = np.asarray(weight, dtype=input.dtype)
    try:
        broadcast = np.broadcast_shapes(np.shape(weight), shape)
    except ValueError:
        broadcast = None
    if broadcast != shape:
        raise ValueError(f"{name}: {what} of shape {np.shape(weight)} does not broadcast to the "
                         f"input's shape {shape}")
    return weight


def mse_loss(input, target, reduction="mean"):
    """Mean squared error: (input - target)² averaged (or summed) over all elements."""
    input, target = _inputs("mse_loss", input, target, reduction)
    return ops.mse_loss(input, target, reduction=reduction)


def l1_loss(input, target, reduction="mean"):
    """Mean absolute error: |input - target| averaged (or summed) over all elements."""
    input, target = _inputs("l1_loss", input, target, reduction)
    return reduce((input - target).abs(), reduction)


def _huber(diff, delta):
    """0.5 d² where |d| < delta, else delta * (|d| - 0.5 delta): quadratic near 0, then linear."""
    size = diff.abs()
    return where(size.data < delta, 0.5 * diff * diff, delta * (size - 0.5 * delta))


def huber_loss(input, target, reduction="mean", delta=1.0):
    """0.5 d² where |d| < delta, else delta * (|d| - 0.5 delta), d = input - target (PyTorch's)."""
    input, target = _inputs("huber_loss", input, target, reduction)
    if not delta > 0:
        raise ValueError(f"huber_loss does not support non-positive values for delta, got {delta}")
    return reduce(_huber(input - target, delta), reduction)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """0.5 d² / beta where |d| < beta, else |d| - 0.5 beta (PyTorch's): the Huber loss / beta.

    beta = 0 is the L1 loss.
    """
    input, target = _inputs("smooth_l1_loss", input, target, reduction)
    if not beta >= 0:
        raise ValueError(f"smooth_l1_loss does not support negative values for beta, got {beta}")
    diff = input - target
    return reduce(diff.abs() if beta == 0 else _huber(diff, beta) / beta, reduction)


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-(y·log p + (1 - y)·log(1 - p)) for probabilities p in [0, 1] (e.g. after a sigmoid).

    Each log is clamped at -100 like PyTorch's, so p = 0 or 1 gives no inf/NaN.
    `weight` (broadcast to the input's shape) scales each element's loss.
    For raw scores (logits) use `binary_cross_entropy_with_logits`, which is
    both more accurate and more stable.
    """
    input, target = _inputs("binary_cross_entropy", input, target, reduction)
    if not ((input.data >= 0) & (input.data <= 1)).all():  # NaN fails both tests too
        raise ValueError(
            f"binary_cross_entropy: input must be probabilities in [0, 1], got "
            f"{_value_range(np.asarray(input.data))}; for raw scores (logits) use "
            f"binary_cross_entropy_with_logits / BCEWithLogitsLoss")
    target_data = np.asarray(target.data if isinstance(target, Value) else target)
    if not ((target_data >= 0) & (target_data <= 1)).all():  # NaN fails both, as in PyTorch
        raise ValueError(f"binary_cross_entropy: target must be in [0, 1] (labels 0/1 or "
                         f"probabilities), got {_value_range(target_data)}; labels -1/+1 map "
                         f"to 0/1 with (y + 1) / 2")
    weight = _elementwise_weight("binary_cross_entropy", "weight", weight, input)
    if weight is None:
        return ops.binary_cross_entropy(input, target, reduction=reduction)
    return reduce(ops.binary_cross_entropy(input, target, reduction="none") * weight, reduction)


def _value_range(array):
    """'values in [lo, hi]' for an error message, naming NaNs (which min/max would hide)."""
    finite = array[~np.isnan(array)]
    text = f"values in [{finite.min():.4g}, {finite.max():.4g}]" if finite.size else "only"
    nans = int(np.isnan(array).sum())
    return text + (f" and {nans} NaN" if nans and finite.size else " NaN" if nans else "")


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """Binary cross-entropy of sigmoid(input) computed from the logits directly.

    loss = softplus(x) - x·y, with softplus(x) = log(1 + exp(x)) computed as
    logsumexp([0, x]) = max(x, 0) + log(1 + exp(-|x|)): no overflow for any x,
    and the gradient is exactly sigmoid(x) - y (also at x = 0).
    `pos_weight` (broadcast along the last axis, one per class) scales the
    positive term: loss = (1 - y)·x + (1 + (pos_weight - 1)·y)·softplus(-x);
    `weight` scales each element's loss.
    """
    name = "binary_cross_entropy_with_logits"
    input, target = _inputs(name, input, target, reduction)
    weight = _elementwise_weight(name, "weight", weight, input)
    pos_weight = _elementwise_weight(name, "pos_weight", pos_weight, input)
    if pos_weight is None and weight is None:
        return ops.binary_cross_entropy_with_logits(input, target, reduction=reduction)
    if pos_weight is None:
        losses = ops.binary_cross_entropy_with_logits(input, target, reduction="none")
    else:
        log_weight = 1 + (pos_weight - 1) * target
        losses = (1 - target) * input + log_weight * softplus(-input, threshold=np.inf)
    return reduce(losses if weight is None else losses * weight, reduction)


def kl_div(input, target, reduction="mean", log_target=False):
    """Kullback-Leibler divergence of the log-probabilities `input` from `target` (PyTorch's).

    Per element: target * (log target - input), 0 where target is 0; with
    `log_target=True` the target is given as log-probabilities: exp(t) * (t - input).
    `reduction="batchmean"` (sum / batch size) is the divergence itself; "mean"
    (sum / number of elements, PyTorch's default) warns, as PyTorch does.
    """
    if reduction not in REDUCTIONS + ("batchmean",):
        raise ValueError(f"kl_div: unknown reduction {reduction!r}; use 'batchmean', 'mean', "
                         f"'sum' or 'none'")
    input, target = _inputs("kl_div", input, target, "sum" if reduction == "batchmean" else reduction)
    if log_target:
        losses = ops.exp(target) * (target - input)
    else:
        positive = np.asarray(target.data if isinstance(target, Value) else target) > 0
        safe_log = ops.log(where(positive, target, 1.0))  # log 1 = 0 where the target is 0
        losses = target * safe_log - target * input
    if reduction == "mean":
        warnings.warn("kl_div: reduction 'mean' divides the total loss by both the batch size "
                      "and the support size; 'batchmean' divides only by the batch size, and "
                      "aligns with the KL divergence's definition", stacklevel=2)
    if reduction == "batchmean":
        return losses.sum() / (input.shape[0] if input.ndim else 1)
    return reduce(losses, reduction)


# --- the losses as modules --------------------------------------------------------------
class _Loss(Module):
    """A loss as a module: `LossClass(...)(input, target)` calls the loss function.

    Options other than `reduction` (delta, weight, ...) are passed on as keywords;
    a `weight` or `pos_weight` array is registered as a buffer, as PyTorch does, so
    it appears in the state dict and moves with `.to(dtype)`.
    """

    function = None  # set by each subclass
    _wraps_inputs = False  # class labels keep their integer dtype
    _buffer_options = ("weight", "pos_weight")
    _reductions = REDUCTIONS

    def __init__(self, reduction="mean", **options):
        super().__init__()
        if reduction not in self._reductions:
            check_reduction(type(self).__name__, reduction)
        self.reduction = reduction
        self._options = {}
        for key, value in options.items():
            if key in self._buffer_options and value is not None:
                self.register_buffer(key, value)
            else:
                self._options[key] = value

    def _all_options(self):
        buffers = {key: self._buffers[key] for key in self._buffer_options if key in self._buffers}
        return {**self._options, **buffers}

    def forward(self, input, target):
        return type(self).function(input, target, reduction=self.reduction, **self._all_options())


    def extra_repr(self):
        """The reduction and every option set to other than its default."""
        defaults = inspect.signature(type(self)).parameters
        shown = [f"reduction={self.reduction!r}"]
        shown += [f"{key}={value!r}" for key, value in self._options.items()
                  if key not in defaults or value != defaults[key].default]
        return ", ".join(shown)


class MSELoss(_Loss):
    """Module form of `mse_loss`."""
    function = staticmethod(mse_loss)


class L1Loss(_Loss):
    """Module form of `l1_loss`."""
    function = staticmethod(l1_loss)


class HuberLoss(_Loss):
    """Module form of `huber_loss`: `HuberLoss(reduction="mean", delta=1.0)`."""
    function = staticmethod(huber_loss)

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction, delta=delta)


class SmoothL1Loss(_Loss):
    """Module form of `smooth_l1_loss`: `SmoothL1Loss(reduction="mean", beta=1.0)`."""
    function = staticmethod(smooth_l1_loss)

    def __init__(self, reduction="mean", beta=1.0):
        super().__init__(reduction, beta=beta)


class BCELoss(_Loss):
    """Module form of `binary_cross_entropy` (inputs are probabilities): `BCELoss(weight=None,
    reduction="mean")`; a string first argument is taken as the reduction, as before."""
    function = staticmethod(binary_cross_entropy)

    def __init__(self, weight=None, reduction="mean"):
        if isinstance(weight, str):
            weight, reduction = None, weight
        super().__init__(reduction, weight=weight)


class BCEWithLogitsLoss(_Loss):
    """Module form of `binary_cross_entropy_with_logits` (inputs are logits):
    `BCEWithLogitsLoss(weight=None, reduction="mean", pos_weight=None)`."""
    function = staticmethod(binary_cross_entropy_with_logits)

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        if isinstance(weight, str):
            weight, reduction = None, weight
        super().__init__(reduction, weight=weight, pos_weight=pos_weight)


class CrossEntropyLoss(_Loss):
    """Module form of `cross_entropy`: `CrossEntropyLoss(weight=None, ignore_index=-100,
    reduction="mean", label_smoothing=0.0)`."""
    function = staticmethod(cross_entropy)

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        if isinstance(weight, str):
            weight, reduction = None, weight
        super().__init__(reduction, weight=weight, ignore_index=ignore_index,
                         label_smoothing=label_smoothing)


class NLLLoss(_Loss):
    """Module form of `nll_loss`: `NLLLoss(weight=None, ignore_index=-100, reduction="mean")`."""
    function = staticmethod(nll_loss)

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        if isinstance(weight, str):
            weight, reduction = None, weight
        super().__init__(reduction, weight=weight, ignore_index=ignore_index)


class KLDivLoss(_Loss):
    """Module form of `kl_div`: `KLDivLoss(reduction="mean", log_target=False)`."""
    function = staticmethod(kl_div)
    _reductions = REDUCTIONS + ("batchmean",)

    def __init__(self, reduction="mean", log_target=False):
        super().__init__(reduction, log_target=log_target)
