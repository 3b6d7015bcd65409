"""The README's pictures: a neuron's computation graph, a small MLP grouped by layer, gradient flow.

    python examples/graph_picture.py --out docs/images

1. single_neuron.svg — the slides' neuron y = f(b + w1 x1 + w2 x2) with f = tanh
   (micrograd's numbers), drawn after a plain backward(), as micrograd does: every
   value shows its data and gradient.
2. mlp_layers.svg — the guide's nn.MLP([2, 4, 4, 1]) (sigmoid) on a batch of 8,
   after backward, drawn with depth=1: each layer call is one box with its
   parameters' shapes and gradients.
3. gradient_flow.png — mean and max |grad| of every parameter of a 6-layer
   sigmoid MLP after one backward: the gradients shrink layer by layer towards
   the input (vanishing gradients, as the NN-basics guide warns).

Needs Graphviz's `dot` for the SVGs (without it, .dot files are written instead).
"""
import numpy as np

import nn
from autograd_lite import Value, plot_gradient_flow, save_graph
from autograd_lite.gradient_plot import gradient_magnitudes


def single_neuron():
    """y = tanh(b + w1 x1 + w2 x2) and its pre-activation n."""
    x1, x2 = Value(2.0, name="x1"), Value(0.0, name="x2")
    w1, w2 = Value(-3.0, name="w1"), Value(1.0, name="w2")
    b = Value(6.8813735870195432, name="b")
    n = b + w1 * x1 + w2 * x2
    n.name = "n"
    y = n.tanh()
    y.name = "y"
    return y, n


def main(argv=None):
    from _common import parse_args, report, save_figure  # matplotlib: not needed for the neuron

    args = parse_args(__doc__.splitlines()[0], default_seed=0, argv=argv)
    rng = np.random.default_rng(args.seed)

    y, _ = single_neuron()
    y.backward()
    print("wrote", save_graph(y, args.out / "single_neuron.svg"))
    report("neuron_y", y.item())

    mlp = nn.MLP([2, 4, 4, 1], activation="sigmoid", output_activation="sigmoid", rng=rng)
    labels = (rng.random(size=(8, 1)) < 0.5).astype(np.float64)
    loss = nn.binary_cross_entropy(mlp(rng.normal(size=(8, 2))), labels)
    loss.name = "loss"
    loss.backward()
    print("wrote", save_graph(loss, args.out / "mlp_layers.svg", depth=1))

    deep = nn.MLP([4] + [16] * 5 + [1], activation="sigmoid", rng=rng)
    loss = (deep(rng.normal(size=(32, 4))) ** 2).mean()
    loss.backward()
    params = list(deep.named_parameters())
    names, means, _ = gradient_magnitudes(params)
    report("first_to_last_weight_grad_ratio", means[0] / means[-2])
    save_figure(plot_gradient_flow(params, title="Gradient flow: 6-layer sigmoid MLP"),
                args.out, "gradient_flow.png")


if __name__ == "__main__":
    main()
