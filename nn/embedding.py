"""Embedding: a lookup table of vectors, one row per index (word, token, category).

`embedding(indices)` is `weight[indices]`, an engine `getitem`, so the gradient of
each row is the sum of the gradients of the positions that looked it up. The row
at `padding_idx` gets no gradient (its lookups read it as a constant), and
`max_norm` rescales, before the lookup and outside the graph, every looked-up row
whose norm exceeds it, as PyTorch does.
"""
import numbers

import numpy as np

from autograd_lite import Value, no_grad, where

from . import init
from .module import Module, Parameter

__all__ = ["Embedding", "embedding"]


def _renormalize(weight, indices, max_norm, norm_type):
    """Scale the looked-up rows of `weight` whose norm exceeds max_norm down to it, in place."""
    rows = np.unique(indices)
    norms = np.linalg.norm(weight.data[rows], ord=norm_type, axis=1)
    too_long = norms > max_norm
    if too_long.any():
        with no_grad():
            data = weight.data.copy()
            data[rows[too_long]] *= (max_norm / (norms[too_long] + 1e-7))[:, None]
            weight.data = data


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0):
    """PyTorch's functional.embedding: rows of `weight` (num_embeddings, dim) picked by the
    integer array `input` (any shape), giving input.shape + (dim,)."""
    indices = np.asarray(input.data if isinstance(input, Value) else input)
    num = np.shape(weight)[0]
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {indices.dtype}; "
                        f"convert them with indices.astype(int)")
    if indices.size and (indices.min() < -num or indices.max() >= num):
        bad = indices[(indices < -num) | (indices >= num)][0]
        raise IndexError(f"embedding: index {bad} is out of range for {num} embeddings")
    if max_norm is not None:
        _renormalize(weight, indices % num, max_norm, norm_type)
    rows = weight[indices]
    if padding_idx is None:
        return rows
    trained = (indices % num != padding_idx % num)[..., None]
    return where(trained, rows, rows.data)  # the padding row reads as a constant: no gradient


class Embedding(Module):
    """`Embedding(num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0)`:
    weight (num_embeddings, embedding_dim) from N(0, 1) (`rng`, keyword only, seeds it),
    with the padding_idx row zeros, as PyTorch."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, *, rng=None):
        super().__init__()
        if scale_grad_by_freq or sparse:
            raise ValueError("Embedding: scale_grad_by_freq and sparse gradients are not "
                             "supported (gradients are dense numpy arrays)")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None:
            if not isinstance(padding_idx, numbers.Integral) or \
                    not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be within num_embeddings "
                                 f"({self.num_embeddings}), got {padding_idx!r}")
            padding_idx = int(padding_idx) % self.num_embeddings
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        if _weight is None:
            self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim)))
            self.reset_parameters(rng)
        else:
            array = np.array(_weight.data if isinstance(_weight, Value) else _weight, dtype=float)
            if array.shape != (self.num_embeddings, self.embedding_dim):
                raise ValueError(f"Embedding: _weight of shape {array.shape} does not match "
                                 f"({self.num_embeddings}, {self.embedding_dim})")
            self.weight = Parameter(array, requires_grad=not _freeze)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0):
        """An Embedding holding `embeddings` (a 2-D array); frozen (no gradient) by default."""
        shape = np.shape(embeddings.data if isinstance(embeddings, Value) else embeddings)
        if len(shape) != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape {shape}")
        return cls(shape[0], shape[1], padding_idx, max_norm, norm_type, _weight=embeddings,
                   _freeze=freeze)

    def reset_parameters(self, rng=None):
        init.normal_(self.weight, generator=rng)
        if self.padding_idx is not None:
            data = self.weight.data.copy()
            data[self.padding_idx] = 0.0
            self.weight.data = data

    _wraps_inputs = False  # integer indices stay integers

    def forward(self, input):
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type)


    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text + (f", max_norm={self.max_norm}" if self.max_norm is not None else "")
