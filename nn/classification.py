"""Losses over class scores, with PyTorch's options: `cross_entropy` and `nll_loss`.

Scores are laid out as PyTorch lays them out: (N, C), (N, C, d1, d2, ...) (a class
score per position, e.g. per pixel) or (C,) for one unbatched sample; the class
axis is 1 (0 unbatched). Targets are either class indices, integers of the input's
shape without the class axis, or, for `cross_entropy`, class probabilities of the
input's own shape (a float array: soft labels).

With class indices, each sample's loss is -weight[y] * log p[y] (log p from
log_softmax for `cross_entropy`; `nll_loss` takes log p itself), samples whose
target equals `ignore_index` count for nothing, and "mean" divides by the summed
weights of the samples that count (their number without `weight`), as PyTorch
does. `label_smoothing` eps mixes in the uniform distribution: the loss becomes
(1 - eps) * that + eps / C * (-sum over classes of weight[c] * log p[c]).
"""
import numpy as np

from autograd_lite import Value, log_softmax, ops

from .reductions import as_value, check_reduction, reduce

__all__ = ["cross_entropy", "nll_loss"]


def _batched(name, input):
    """The input as (N, C, d...) and whether it was one unbatched (C,) sample."""
    input = as_value(input)
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have a class axis, (C,), (N, C) or (N, C, d1, ...), "
                         f"got a scalar")
    if input.ndim == 1:
        return input.reshape(1, input.shape[0]), True
    return input, False


def _class_weight(name, weight, input):
    """A (C,) weight (a Value, or a numpy array or list, made the input's dtype), or None."""
    if weight is None:
        return None
    num_classes = input.shape[1]
    if not isinstance(weight, Value):
        weight = np.asarray(weight, dtype=input.dtype)
    if np.shape(weight) != (num_classes,):
        raise ValueError(f"{name}: weight should be defined either for all {num_classes} classes "
                         f"or no classes, got weight of shape {np.shape(weight)}")
    return weight


def _class_indices(name, target, input, unbatched, ignore_index):
    """Check integer targets (shape, range) and return them as (N, d...) int array."""
    array = target.data if isinstance(target, Value) else np.asarray(target)
    num_classes = input.shape[1]
    if array.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: labels must be integer class indices, got dtype {array.dtype}; "
            f"convert them with labels.astype(int) (one-hot targets: labels.argmax(axis=1); "
            f"class probabilities: a float target of the input's shape {_shape(input, unbatched)})")
    expected = () if unbatched else input.shape[:1] + input.shape[2:]
    if array.shape != expected and unbatched:
        raise ValueError(f"{name}: logits of shape {input.shape[1:]} are one unbatched sample and "
                         f"need a 0-d label, got labels of shape {array.shape}; with labels of "
                         f"shape (N,) the logits must be 2-D (N, C), got shape {input.shape[1:]}; "
                         f"for one sample use logits.reshape(1, -1)")
    if array.shape != expected:
        raise ValueError(f"{name}: logits of shape {input.shape} need labels of shape "
                         f"{expected}, got {array.shape}")
    array = array.reshape((1,) + array.shape) if unbatched else array
    wrong = (array != ignore_index) & ((array < 0) | (array >= num_classes))
    if wrong.any():
        raise IndexError(f"{name}: label {array[wrong][0]} is out of range for {num_classes} "
                         f"classes (labels must be in [0, {num_classes})); a label equal to "
                         f"ignore_index={ignore_index} leaves its sample out")
    return array


def _shape(input, unbatched):
    return input.shape[1:2] if unbatched else input.shape


def _along_class_axis(vector, ndim):
    """A (C,) vector reshaped to broadcast along axis 1 of an ndim-dimensional input."""
    return vector.reshape((1, -1) + (1,) * (ndim - 2))


def _picked(log_probs, labels, ignore_index, weight):
    """-weight[y] * log p[y] for every sample (0 where ignored), and each sample's weight."""
    counts = labels != ignore_index
    safe = np.where(counts, labels, 0)  # any valid class where ignored: multiplied by 0 below
    grid = np.indices(labels.shape, sparse=True)
    picked = log_probs[(grid[0], safe) + tuple(grid[1:])]  # (N, d...)
    sample_weight = counts.astype(log_probs.dtype)
    if weight is not None:
        sample_weight = weight[safe] * sample_weight
    return -picked * sample_weight, sample_weight


def _weighted_reduce(losses, sample_weight, reduction, unbatched):
    """"mean" divides by the summed sample weights (PyTorch's weighted mean)."""
    if reduction == "mean":
        return losses.sum() / sample_weight.sum()
    if reduction == "none" and unbatched:
        return losses.reshape(())
    return reduce(losses, reduction)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of class-index targets, given log-probabilities `input`
    (e.g. from log_softmax): -weight[y] * input[y] per sample (PyTorch's options)."""
    check_reduction("nll_loss", reduction)
    input, unbatched = _batched("nll_loss", input)
    weight = _class_weight("nll_loss", weight, input)
    labels = _class_indices("nll_loss", target, input, unbatched, ignore_index)
    losses, sample_weight = _picked(input, labels, ignore_index, weight)
    return _weighted_reduce(losses, sample_weight, reduction, unbatched)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Softmax cross-entropy of logits against class indices or class probabilities.

    loss_i = -log_softmax(logits_i)[label_i] = logsumexp(logits_i) - logits_i[label_i]
    for plain (N, C) logits and labels; the options and layouts of the module
    docstring otherwise. A float target of the input's shape is class probabilities:
    loss_i = -sum_c weight[c] * t_ic * log p_ic, "mean" over samples.
    """
    name = "cross_entropy"
    check_reduction(name, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")
    input, unbatched = _batched(name, input)
    num_classes = input.shape[1]
    weight = _class_weight(name, weight, input)
    target_array = np.asarray(target.data if isinstance(target, Value) else target)
    if target_array.dtype.kind == "f" and target_array.shape == _shape(input, unbatched):
        return _probability_cross_entropy(input, target, weight, ignore_index, reduction,
                                          label_smoothing, unbatched)
    labels = _class_indices(name, target, input, unbatched, ignore_index)
    if (input.ndim == 2 and weight is None and not label_smoothing and not unbatched
            and not (labels == ignore_index).any()):
        return ops.cross_entropy(input, labels=labels, reduction=reduction)  # one fused op
    log_probs = log_softmax(input, axis=1)
    losses, sample_weight = _picked(log_probs, labels, ignore_index, weight)
    if label_smoothing:
        spread = log_probs if weight is None else log_probs * _along_class_axis(weight, input.ndim)
        counts = (labels != ignore_index).astype(log_probs.dtype)
        uniform = -spread.sum(axis=1) * counts
        if reduction == "mean":  # both parts over the same weighted count, as PyTorch
            losses, sample_weight = losses.sum(), sample_weight.sum()
            uniform = uniform.sum()
        losses = (1 - label_smoothing) * losses + (label_smoothing / num_classes) * uniform
    return _weighted_reduce(losses, sample_weight, reduction, unbatched)


def _probability_cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing,
                               unbatched):
    """Cross-entropy against soft labels: -sum_c weight[c] * t_c * log p_c per sample."""
    if ignore_index != -100:
        raise ValueError(f"cross_entropy: ignore_index is not supported for class-probability "
                         f"(floating point) targets, got ignore_index={ignore_index}")
    num_classes = input.shape[1]
    target = target if isinstance(target, Value) else np.asarray(target, dtype=input.dtype)
    target = target.reshape(input.shape)
    if label_smoothing:
        target = target * (1 - label_smoothing) + label_smoothing / num_classes
    terms = log_softmax(input, axis=1) * target
    if weight is not None:
        terms = terms * _along_class_axis(weight, input.ndim)
    losses = -terms.sum(axis=1)
    if reduction == "none" and unbatched:
        return losses.reshape(())
    return reduce(losses, reduction)
