"""Loss functions, as functions (`nn.mse_loss`) and as modules (`nn.MSELoss()`), with PyTorch's names.

Each loss is engine operations, so its gradient comes from the engine's op
table: `mse_loss`, `binary_cross_entropy`, `binary_cross_entropy_with_logits`
and `cross_entropy` are one primitive each (as PyTorch runs each as one
kernel), `l1_loss` a composition. This file checks the arguments. Each takes
`reduction="mean"` (average over elements; over samples for cross-entropy),
`"sum"` or `"none"` (one loss per element / sample).

Numerical stability is part of the formulas, not an afterthought:
- `cross_entropy` goes through `log_softmax` (log-sum-exp), never log(softmax);
- `binary_cross_entropy_with_logits` is softplus(x) - x*y with softplus computed
  as a log-sum-exp, i.e. max(x, 0) + log(1 + exp(-|x|)) - x*y;
- `binary_cross_entropy` clamps each log at -100, as PyTorch does, so a
  saturated sigmoid (probability exactly 0 or 1) gives a finite loss and a
  zero gradient instead of inf or NaN.

Targets may be numpy arrays, lists or `Value`s. A numpy target is converted
to the input's dtype, so a float32 model stays float32. Shapes must match
exactly: PyTorch only warns when (N, 1) outputs meet (N,) targets and then
broadcasts them to (N, N), a classic silent bug; here it is a ValueError.
"""
import numpy as np

from autograd_lite import Value, ops, scope

from .module import Module

__all__ = ["mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "cross_entropy", "MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss",
           "CrossEntropyLoss"]

REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(name, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: unknown reduction {reduction!r}; use 'mean', 'sum' or 'none'")


def _reduce(losses, reduction):
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def _as_value(x):
    return x if isinstance(x, Value) else Value(x, requires_grad=False)


def _inputs(name, input, target, reduction):
    """Check the reduction, wrap the input, convert the target, and insist on equal shapes."""
    _check_reduction(name, reduction)
    input = _as_value(input)
    if not isinstance(target, Value):
        target = np.asarray(target, dtype=input.dtype)
    if np.shape(target) != input.shape:
        hint = ""
        if input.size == np.size(target):
            hint = f" (reshape the target, e.g. target.reshape{input.shape})"
        raise ValueError(f"{name}: input shape {input.shape} and target shape "
                         f"{np.shape(target)} must be the same{hint}")
    return input, target


def mse_loss(input, target, reduction="mean"):
    """Mean squared error: (input - target)² averaged (or summed) over all elements."""
    input, target = _inputs("mse_loss", input, target, reduction)
    return ops.mse_loss(input, target, reduction=reduction)


def l1_loss(input, target, reduction="mean"):
    """Mean absolute error: |input - target| averaged (or summed) over all elements."""
    input, target = _inputs("l1_loss", input, target, reduction)
    return _reduce((input - target).abs(), reduction)


def binary_cross_entropy(input, target, reduction="mean"):
    """-(y·log p + (1 - y)·log(1 - p)) for probabilities p in [0, 1] (e.g. after a sigmoid).

    Each log is clamped at -100 like PyTorch's, so p = 0 or 1 gives no inf/NaN.
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
    return ops.binary_cross_entropy(input, target, reduction=reduction)


def _value_range(array):
    """'values in [lo, hi]' for an error message, naming NaNs (which min/max would hide)."""
    finite = array[~np.isnan(array)]
    text = f"values in [{finite.min():.4g}, {finite.max():.4g}]" if finite.size else "only"
    nans = int(np.isnan(array).sum())
    return text + (f" and {nans} NaN" if nans and finite.size else f" NaN" if nans else "")


def binary_cross_entropy_with_logits(input, target, reduction="mean"):
    """Binary cross-entropy of sigmoid(input) computed from the logits directly.

    loss = softplus(x) - x·y, with softplus(x) = log(1 + exp(x)) computed as
    logsumexp([0, x]) = max(x, 0) + log(1 + exp(-|x|)): no overflow for any x,
    and the gradient is exactly sigmoid(x) - y (also at x = 0).
    """
    input, target = _inputs("binary_cross_entropy_with_logits", input, target, reduction)
    return ops.binary_cross_entropy_with_logits(input, target, reduction=reduction)


def _labels(name, labels, n, num_classes):
    """Integer class labels of shape (n,), each in [0, num_classes)."""
    array = labels.data if isinstance(labels, Value) else np.asarray(labels)
    if array.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: labels must be integer class indices, got dtype {array.dtype}; "
            f"convert them with labels.astype(int) (one-hot targets: labels.argmax(axis=1))")
    if array.shape != (n,):
        raise ValueError(f"{name}: logits of shape ({n}, {num_classes}) need labels of shape "
                         f"({n},), got {array.shape}")
    if n and (array.min() < 0 or array.max() >= num_classes):
        bad = array[(array < 0) | (array >= num_classes)][0]
        raise IndexError(f"{name}: label {bad} is out of range for {num_classes} classes "
                         f"(labels must be in [0, {num_classes}))"
                         + ("; PyTorch's ignore_index=-100 is not supported here: drop "
                            "those samples instead" if bad == -100 else ""))
    return array


def cross_entropy(input, target, reduction="mean"):
    """Softmax cross-entropy of logits (N, C) against integer class labels (N,).

    loss_i = -log_softmax(logits_i)[label_i] = logsumexp(logits_i) - logits_i[label_i];
    "mean" averages over the N samples.
    """
    _check_reduction("cross_entropy", reduction)
    input = _as_value(input)
    if input.ndim != 2:
        raise ValueError(f"cross_entropy: logits must be 2-D (N, C), got shape {input.shape}"
                         + ("; for one sample use logits.reshape(1, -1)" if input.ndim == 1 else ""))
    n, num_classes = input.shape
    labels = _labels("cross_entropy", target, n, num_classes)
    return ops.cross_entropy(input, labels=labels, reduction=reduction)


class _Loss(Module):
    """A loss as a module: `LossClass(reduction)(input, target)` calls the loss function."""

    function = None  # set by each subclass

    def __init__(self, reduction="mean"):
        super().__init__()
        _check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def forward(self, input, target):
        return type(self).function(input, target, reduction=self.reduction)

    def __call__(self, input, target):
        # Module.__call__ would turn a numpy target into a float Value; class
        # labels must keep their integer dtype, so the arguments pass through as given.
        with scope(self._call_label, inputs=[input] if isinstance(input, Value) else []):
            return self.forward(input, target)

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Module form of `mse_loss`."""
    function = staticmethod(mse_loss)


class L1Loss(_Loss):
    """Module form of `l1_loss`."""
    function = staticmethod(l1_loss)


class BCELoss(_Loss):
    """Module form of `binary_cross_entropy` (inputs are probabilities)."""
    function = staticmethod(binary_cross_entropy)


class BCEWithLogitsLoss(_Loss):
    """Module form of `binary_cross_entropy_with_logits` (inputs are logits)."""
    function = staticmethod(binary_cross_entropy_with_logits)


class CrossEntropyLoss(_Loss):
    """Module form of `cross_entropy` (logits (N, C), integer labels (N,))."""
    function = staticmethod(cross_entropy)
