"""`nn.utils`, PyTorch's `torch.nn.utils`: gradient clipping and parameters as one vector.

    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)   # before optimizer.step()
    optimizer.step()

The clipping functions change each parameter's `.grad` (a numpy array) in place
and keep its dtype; parameters without a gradient are skipped.
"""
import numpy as np

from autograd_lite import Value, concatenate

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]


def _as_list(parameters):
    return [parameters] if isinstance(parameters, Value) else list(parameters)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients together so their joint `norm_type`-norm is at most max_norm.

    The joint norm is the norm of every gradient's norm ("inf": the largest |element|);
    each gradient is multiplied by min(1, max_norm / (norm + 1e-6)), as PyTorch does.
    Returns the joint norm before clipping, as a Value (`.item()` gives the number).
    """
    parameters = _as_list(parameters)  # once: model.parameters() is a generator
    grads = [p.grad for p in parameters if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return Value(0.0, requires_grad=False)
    if norm_type == np.inf:
        norms = [np.max(np.abs(g)) if g.size else 0.0 for g in grads]
        total = float(np.max(norms))
    else:
        norms = [np.linalg.norm(np.ravel(g), ord=norm_type) for g in grads]
        total = float(np.linalg.norm(np.array(norms, dtype=np.float64), ord=norm_type))
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients "
                           f"is non-finite ({total}), so it cannot be clipped; to scale the "
                           f"gradients by it anyway, pass error_if_nonfinite=False")
    coefficient = min(float(max_norm) / (total + 1e-6), 1.0)
    for p in parameters:
        if p.grad is not None:
            p.grad = (np.asarray(p.grad) * coefficient).astype(p.grad.dtype, copy=False)
    return Value(total, requires_grad=False)


def clip_grad_value_(parameters, clip_value):
    """Clip every gradient element into [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is not None:
            p.grad = np.clip(p.grad, -clip_value, clip_value)


def parameters_to_vector(parameters):
    """All parameters flattened and joined into one vector, a Value that gradients flow through."""
    parameters = _as_list(parameters)
    if not parameters:
        raise ValueError("parameters_to_vector: expected at least one parameter")
    return concatenate([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D `vec` into the parameters' data (not recorded)."""
    if not isinstance(vec, (Value, np.ndarray)):
        raise TypeError(f"vector_to_parameters: expected a Value or numpy array, got "
                        f"{type(vec).__name__}")
    data = np.asarray(vec.data if isinstance(vec, Value) else vec)
    parameters = _as_list(parameters)
    needed = sum(p.size for p in parameters)
    if data.ndim != 1 or data.size != needed:
        raise ValueError(f"vector_to_parameters: expected a vector of {needed} elements (the "
                         f"parameters' total), got shape {data.shape}")
    start = 0
    for p in parameters:
        p.data = data[start:start + p.size].reshape(p.shape).astype(p.dtype)
        start += p.size
