"""A tour of computation graphs: what the engine records, before and after backward().

Three graphs, each drawn twice with `save_graph` — right after the forward
pass (data only) and after a plain `backward()` (micrograd's flow: every value
now shows its grad, the output's being 1):

1. a single neuron y = tanh(b + w1·x1 + w2·x2), the slides' y = f(b + Σ wᵢxᵢ)
   (graph_picture.py's neuron, with micrograd's numbers);
2. the cosine post's 1-5-1 tanh network and its loss on the post's 50 points
   (arrays too big to print are summarised as shape and min/mean/max);
3. the guide's [2, 4, 4, 1] sigmoid MLP on a batch of 8: before backward with
   `group_modules=True` (one box per layer call), after it with `depth=1` (each
   layer one box: its parameters, shapes and gradients), and as an interactive
   page (graph_mlp.html) that steps through the backward pass.

Needs Graphviz's `dot` for the PNGs and the page; without it `save_graph`
writes .dot sources instead and says how to install Graphviz.

Figures (in --out): graph_neuron_{before,after}.png,
graph_cosine_{before,after}.png, graph_mlp_{before,after}.png, graph_mlp.html.

    python examples/graph_tour.py [--out out/] [--quick] [--seed 0]
"""
import numpy as np

import nn
from autograd_lite import draw_graph, save_graph
from _common import parse_args, report
from cosine_fit import make_data, post_mse, post_network
from graph_picture import single_neuron


def before_and_after(root, out, name, before=None, after=None):
    """Save root's graph, run backward, save it again: now with every value's grad."""
    print("wrote", save_graph(root, out / f"graph_{name}_before.png", **(before or {})))
    root.backward()
    print("wrote", save_graph(root, out / f"graph_{name}_after.png", **(after or {})))


def named_leaves(root):
    """The named leaves of root's graph (inputs and parameters), found by walking `.parents`."""
    leaves, stack, seen = {}, [root], set()
    while stack:
        value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if value.is_leaf and value.name:
            leaves[value.name] = value
        stack.extend(value.parents)
    return leaves


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], default_seed=0, argv=argv)
    rng = np.random.default_rng(args.seed)

    y, n = single_neuron()
    n.retain_grad()  # only to print n.grad below: the picture shows every value's grad anyway
    before_and_after(y, args.out, "neuron")
    report("neuron_y", y.item())
    report("neuron_n_grad", n.grad.item())
    for name, leaf in sorted(named_leaves(y).items()):
        report(f"neuron_{name}_grad", leaf.grad.item())

    t, target = make_data()
    model = post_network()
    loss = post_mse(model(t), target)
    loss.name = "loss"
    before_and_after(loss, args.out, "cosine")
    report("cosine_loss", loss.item())
    report("cosine_first_weight_grad_norm", float(np.linalg.norm(model[0].weight.grad)))

    mlp = nn.MLP([2, 4, 4, 1], activation="sigmoid", output_activation="sigmoid", rng=rng)
    labels = rng.integers(0, 2, size=(8, 1)).astype(np.float64)
    loss = nn.binary_cross_entropy(mlp(rng.normal(size=(8, 2))), labels)
    loss.name = "loss"
    boxes = draw_graph(loss, group_modules=True).source.count("subgraph cluster_")
    report("mlp_layer_boxes", boxes)
    before_and_after(loss, args.out, "mlp", before=dict(group_modules=True), after=dict(depth=1))
    report("mlp_loss", loss.item())
    print("wrote", save_graph(loss, args.out / "graph_mlp.html", depth=1))


if __name__ == "__main__":
    main()
