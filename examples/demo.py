"""The main demo: the cosine post end to end — train, figures, graph picture, gradient check.

    python -m pip install -e ".[examples]" && python examples/demo.py

1. Trains the post's 1-5-1 tanh network on y = cos(2πt) exactly as the post
   does, then its Snake-activation fix for extrapolation (cosine_fit.py):
   prints the numbers, writes the figures and the training GIF.
2. Draws the trained network's computation graph, one box per layer, with
   every value's data and grad (out/demo_graph.svg; without Graphviz's `dot`
   a .dot file is written instead, with a hint on installing Graphviz).
3. Plots the gradient flow: each parameter's gradient magnitude.
4. Checks the post's hand-derived gradients (its code, transcribed in
   autograd_lite.references.cosine_post) against the engine's and against
   finite differences with `check_gradients`, and prints the report.

Takes about ten seconds (--quick: a few seconds).

    python examples/demo.py [--out out/] [--quick] [--seed 42]
"""
import sys
import warnings

import cosine_fit
from autograd_lite import check_gradients, plot_gradient_flow, save_graph
from autograd_lite.references import cosine_post
from _common import parse_args, report, save_figure


def post_parameters(model):
    """The trained model's weights in the post's layout: columns w1, b1, w2 (5×1) and b2 (1×1)."""
    first, second = model[0], model[2]
    return {"w1": first.weight.data.copy(), "b1": first.bias.data.reshape(-1, 1).copy(),
            "w2": second.weight.data.T.copy(), "b2": second.bias.data.reshape(1, 1).copy()}


def gradient_check(model, t, y):
    """The post's summed per-point gradients, against the loss it prints and the one it descends.

    Against the printed loss Σ (y - ŷ)² / (2N) they are N times too large (the
    report names the factor); they are exactly the gradient of ½ Σ (ŷ - y)².
    """
    def hand_printed(w1, b1, w2, b2):  # the post's loop: its printed loss and its gradient sums
        return cosine_post.training_gradients(t, y, w1, b1, w2, b2)

    def hand_half_sum(w1, b1, w2, b2):  # the same sums, with the loss they are the gradient of
        printed_mse, sums = hand_printed(w1, b1, w2, b2)
        return len(t) * printed_mse, sums

    def printed_loss(w1, b1, w2, b2):
        return cosine_post.engine_loss(t, y, w1, b1, w2, b2)

    def half_sum_of_squares(w1, b1, w2, b2):
        return len(t) * printed_loss(w1, b1, w2, b2)

    params = post_parameters(model)
    against_printed = check_gradients(hand_printed, printed_loss, params, batch_size=len(t))
    print("\nThe post's hand-derived gradients at the trained weights, against the loss it "
          "prints, Σ (y - ŷ)² / (2N):")
    print(against_printed)
    report("printed_loss_check", "pass" if against_printed.passed else "fail")
    report("printed_loss_factor", against_printed["w1"].factor)

    result = check_gradients(hand_half_sum, half_sum_of_squares, params)
    print("\n... and against ½ Σ (ŷ - y)², the loss its update rule really descends:")
    print(result)
    report("gradient_check", "pass" if result.passed else "fail")
    report("gradient_check_max_abs_error",
           max(p.max_abs_error for p in result.parameters.values()))
    return result


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], default_seed=42, argv=argv)
    print("== 1. The cosine post: training, figures, extrapolation ==")
    passed_on = ["--out", str(args.out), "--seed", str(args.seed)]
    passed_on += ["--quick"] if args.quick else []
    model = cosine_fit.main(passed_on)

    print("\n== 2. The computation graph of the trained network ==")
    t, y = cosine_fit.make_data()
    loss = cosine_fit.post_mse(model(t), y)
    loss.name = "loss"
    model.zero_grad()
    loss.backward(retain_graph=True)
    with warnings.catch_warnings(record=True) as caught:  # no `dot`: a one-line hint, shown plainly
        warnings.simplefilter("always")
        path = save_graph(loss, args.out / "demo_graph.svg", group_modules=True)
    for warning in caught:
        print(warning.message)
    print(f"wrote {path}")

    print("\n== 3. Gradient flow ==")
    save_figure(plot_gradient_flow(list(model.named_parameters()),
                                   title="Gradient flow in the trained 1-5-1 network"),
                args.out, "demo_gradient_flow.png")

    print("\n== 4. Gradient check ==")
    gradient_check(model, t, y)
    print(f"\nDone: figures and pictures are in {args.out}/")


if __name__ == "__main__":
    sys.exit(main())
