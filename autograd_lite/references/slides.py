"""The slides ("An Introduction to Neural networks", Lim & Mohta): a neuron and a convolution.

Source: shared/seeds/intro-slides-cnn-digits.md. The slides state

    y = f(b + w₁x₁ + w₂x₂ + ... + wₙxₙ)                       (one neuron)
    Loss = -[y · log(ŷ) + (1 - y) · log(1 - ŷ)]               (binary cross-entropy)
    x_{n+1} = x_n - α f'(x_n)                                 (gradient descent)

and describe a convolution as a kernel that slides over the image (a CNN's
"filters that slide over the image", i.e. cross-correlation, as PyTorch's and
autograd_lite's conv2d), but write down no derivative: "use the chain rule to
propagate the error backwards". The gradients here are therefore ours, the
textbook chain rule in the slides' notation, with f = sigmoid (the slides' ŷ is
"the predicted probability"):

    neuron:      ∂L/∂ŷ = -(y/ŷ - (1-y)/(1-ŷ)),  ∂ŷ/∂z = ŷ(1-ŷ)  ⇒  ∂L/∂z = ŷ - y,
                 ∂L/∂wᵢ = (ŷ - y) xᵢ,  ∂L/∂b = ŷ - y
    convolution: out = x ⋆ K + c (valid cross-correlation), upstream G = ∂L/∂out:
                 ∂L/∂K = x ⋆ G,  ∂L/∂c = Σ G,
                 ∂L/∂x = full convolution of G with K = pad(G) ⋆ flip(K)

`tiny_cnn_gradients` chains both, as the slides' digit recogniser does:
image → convolution → tanh feature map → one sigmoid neuron → binary cross-entropy.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..functional import conv2d


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def binary_cross_entropy(y, y_hat):
    """`Loss = -[y · log(ŷ) + (1 - y) · log(1 - ŷ)]` (one example, as on the slide)."""
    return -(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))


def neuron(x, w, b):
    """`y = f(b + w₁x₁ + ... + wₙxₙ)` with f = sigmoid; x, w of shape (n,), b a number."""
    return sigmoid(b + np.dot(w, x))


def neuron_gradients(x, y, w, b):
    """(BCE, {"w", "b"} gradients) by the chain rule factor by factor:
    ∂L/∂ŷ · ∂ŷ/∂z · ∂z/∂w with ∂L/∂ŷ = -(y/ŷ - (1-y)/(1-ŷ)) and ∂ŷ/∂z = ŷ(1-ŷ)."""
    y_hat = neuron(x, w, b)
    dL_dy_hat = -(y / y_hat - (1 - y) / (1 - y_hat))
    dL_dz = dL_dy_hat * y_hat * (1 - y_hat)
    return binary_cross_entropy(y, y_hat), {"w": dL_dz * x, "b": np.asarray(dL_dz)}


def neuron_gradients_shortcut(x, y, w, b):
    """The same with the sigmoid + BCE simplification ∂L/∂z = ŷ - y (true for sigmoid only)."""
    y_hat = neuron(x, w, b)
    return binary_cross_entropy(y, y_hat), {"w": (y_hat - y) * x, "b": np.asarray(y_hat - y)}


def correlate2d(x, kernel):
    """The sliding kernel, "valid" (no padding, stride 1): out[i, j] = Σ x[i+p, j+q] K[p, q]."""
    return np.einsum("ijpq,pq->ij", sliding_window_view(x, kernel.shape), kernel)


def conv_gradients(x, kernel, upstream):
    """Given G = ∂L/∂out for out = x ⋆ K + c: (∂L/∂K, ∂L/∂c, ∂L/∂x).

    ∂L/∂K = x ⋆ G; ∂L/∂c = Σ G; ∂L/∂x = pad(G, K's size - 1 each side) ⋆ flip(K).
    """
    kh, kw = kernel.shape
    padded = np.pad(upstream, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    return correlate2d(x, upstream), upstream.sum(), correlate2d(padded, kernel[::-1, ::-1])


def tiny_cnn_gradients(image, y, kernel, conv_bias, w, b):
    """(BCE, gradients of kernel, conv_bias, w, b) for the slides' CNN in miniature:
    h = tanh(image ⋆ kernel + conv_bias), ŷ = sigmoid(b + Σ w ⊙ h), Loss = BCE(y, ŷ)."""
    h = np.tanh(correlate2d(image, kernel) + conv_bias)
    y_hat = sigmoid(b + np.sum(w * h))
    dL_dz = y_hat - y
    upstream = dL_dz * w * (1 - h ** 2)
    d_kernel, d_conv_bias, _ = conv_gradients(image, kernel, upstream)
    return binary_cross_entropy(y, y_hat), {
        "kernel": d_kernel, "conv_bias": np.asarray(d_conv_bias),
        "w": dL_dz * h, "b": np.asarray(dL_dz)}


# ---- the same from autograd_lite ops ------------------------------------------------

def engine_neuron_loss(x, y, w, b):
    """BCE of the sigmoid neuron from `Value` ops (w, b are `Value`s)."""
    y_hat = (b + (w * x).sum()).sigmoid()
    return -(y * y_hat.log() + (1 - y) * (1 - y_hat).log())


def engine_conv(x, kernel, conv_bias):
    """x ⋆ K + c with the engine's conv2d (one image, one channel): shape (H-kh+1, W-kw+1)."""
    kh, kw = kernel.shape
    out = conv2d(x.reshape(1, 1, *x.shape), kernel.reshape(1, 1, kh, kw), conv_bias.reshape(1))
    return out.reshape(*out.shape[2:])


def engine_tiny_cnn_loss(image, y, kernel, conv_bias, w, b):
    """`tiny_cnn_gradients`' loss from `Value` ops."""
    h = engine_conv(image, kernel, conv_bias).tanh()
    y_hat = (b + (w * h).sum()).sigmoid()
    return -(y * y_hat.log() + (1 - y) * (1 - y_hat).log())
