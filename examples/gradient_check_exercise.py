"""Checking the source documents' hand-derived gradients, the way a learner checks their own.

Each document derives a backward pass by hand (autograd_lite/references/ has
them transcribed, mistakes included). `check_gradients` runs each derivation,
computes the same gradients with the engine and with finite differences, and
prints a report: per parameter the errors, the worst element, and a hint
naming the kind of mistake. It is called in two forms:

- ``check_gradients(hand_fn, params)``: the derivation's own numpy forward runs
  on `Value`s too, and the engine differentiates the loss it computes — the NN
  basics guide and the sine README are checked this way, no loss written twice;
- ``check_gradients(hand_fn, loss_fn, params)``: the loss written again with
  `Value` ops, for code that `Value`s cannot follow. The cosine post's loop
  stores each prediction with ``y_hat[j] = ...`` (item assignment) and the
  slides' code calls ``np.asarray`` and ``sliding_window_view``; the first form
  says so, naming the line (printed here for the cosine post), so they use this one.

The documents:

- the cosine post: its gradients are summed over the 50 points without 1/N,
  so they are 50 times the gradient of the MSE it prints;
- the NN-basics guide: its backward starts from dz = (ŷ - y)/m for every output
  activation — right for sigmoid + cross-entropy, wrong for its MSE (the
  activation's derivative and a 2 are missing: a varying ratio for tanh; for
  relu exactly ½ where every output unit is active, as in the draw here, since
  relu' = 1 there); its formula section divides by m twice;
- the sine README and the slides write no formula; our textbook derivations
  in their setups pass.

Prints each report, then one ``verdict.<name>: pass|fail`` line (and
``factor.<name>: r`` when the hand gradient is r times the right one), and
``needs_loss_fn.cosine_post: file:line`` where the first form stopped.
Runs in about a second; --quick and --out are accepted for uniformity with the
other examples (nothing is drawn).

    python examples/gradient_check_exercise.py [--seed 42]
"""
import re
from functools import partial
from pathlib import Path

import numpy as np

from autograd_lite import check_gradients
from autograd_lite.references import cosine_post, nn_basics, sine_readme, slides
from _common import parse_args, report


def exercise(name, title, hand_fn, loss_fn, params, batch_size=None):
    """Check one derivation, print its report and its verdict lines. loss_fn=None:
    the engine differentiates hand_fn's own loss, run on Values."""
    print(f"\n=== {title} ===")
    if loss_fn is None:
        result = check_gradients(hand_fn, params, batch_size=batch_size)
    else:
        result = check_gradients(hand_fn, loss_fn, params, batch_size=batch_size)
    print(result)
    report(f"verdict.{name}", "pass" if result.passed else "fail")
    factors = [p.factor for p in result.parameters.values()]
    if None not in factors and np.allclose(factors, factors[0], rtol=1e-9):
        report(f"factor.{name}", factors[0])
    return result


def cosine_exercises():
    x, y = cosine_post.make_data()
    params = cosine_post.initialize_weights()
    engine_loss = partial(cosine_post.engine_loss, x, y)
    print("\n=== cosine post: without loss_fn? ===")
    try:
        check_gradients(partial(cosine_post.training_gradients, x, y), params)
    except TypeError as error:  # Values cannot follow its loop: the message says where
        print(error)
        file, line = re.search(r'File "(.*?)", line (\d+)', str(error)).groups()
        report("needs_loss_fn.cosine_post", f"{Path(file).name}:{line}")
    exercise("cosine_post", "cosine post: its summed per-point gradients vs its printed MSE",
             partial(cosine_post.training_gradients, x, y), engine_loss, params,
             batch_size=len(x))
    exercise("cosine_post_corrected", "cosine post, corrected: the sums divided by N",
             partial(cosine_post.gradients_of_reported_loss, x, y), engine_loss, params,
             batch_size=len(x))


def nn_basics_exercises(rng, m=8):
    def problem(layers, binary):
        weights, biases = nn_basics.init_parameters(layers, rng)
        biases = [b + 0.1 * rng.standard_normal(b.shape) for b in biases]
        X = rng.standard_normal((m, layers[0]))
        y = (rng.random((m, layers[-1])) < 0.5).astype(float) if binary \
            else rng.standard_normal((m, layers[-1]))
        return nn_basics.as_params(weights, biases), X, y

    def check(name, title, derivation, hand_args, params, X, y):
        """hand_args: the derivation's activation(s) (and loss). No loss_fn: the
        guide's numpy forward runs on Values, so the engine differentiates its own loss."""
        exercise(name, title, nn_basics.hand_fn(derivation, X, y, *hand_args), None, params,
                 batch_size=m)

    params, X, y = problem([2, 4, 4, 1], binary=True)
    check("nn_basics_impl1_sigmoid_bce", "NN basics, implementation 1: sigmoid + cross-entropy",
          nn_basics.implementation1, ["sigmoid"], params, X, y)
    params, X, y = problem([3, 5, 5, 1], binary=False)
    check("nn_basics_impl1_tanh_mse", "NN basics, implementation 1: tanh + MSE",
          nn_basics.implementation1, ["tanh"], params, X, y)
    check("nn_basics_impl1_relu_mse", "NN basics, implementation 1: relu + MSE",
          nn_basics.implementation1, ["relu"], params, X, y)
    check("nn_basics_impl1_relu_mse_corrected", "... corrected: dz = 2(ŷ - y) relu'(z) / m",
          nn_basics.gradients_of_reported_loss, ["relu", "relu", "mse"], params, X, y)
    check("nn_basics_impl2_linear_mse",
          "NN basics, implementation 2: relu hidden, linear output, MSE",
          nn_basics.implementation2, ["relu", "linear"], params, X, y)
    check("nn_basics_impl2_sigmoid_mse", "NN basics, implementation 2: sigmoid output, MSE",
          nn_basics.implementation2, ["relu", "sigmoid"], params, X, y)
    check("nn_basics_formula_section", "NN basics, formula section: tanh, L = (1/2m) Σ (y - ŷ)²",
          nn_basics.formula_section, ["tanh"], params, X, y)


def sine_exercises():
    x, y = sine_readme.make_data()
    params = sine_readme.xavier_init()
    for output in sine_readme.OUTPUT_ACTIVATIONS:
        exercise(f"sine_readme_{output}", f"sine README: 1-30-1 tanh network, {output} output, MSE",
                 partial(sine_readme.gradients, x, y, output_activation=output), None,
                 params)  # its own loss, run on Values


def slides_exercises(rng):
    x = rng.standard_normal(4)
    params = {"w": rng.standard_normal(4), "b": np.asarray(0.1)}
    exercise("slides_neuron", "slides: sigmoid neuron + binary cross-entropy, dL/dz = ŷ - y",
             partial(slides.neuron_gradients_shortcut, x, 1.0),
             partial(slides.engine_neuron_loss, x, 1.0), params)
    image = rng.standard_normal((6, 6))
    params = {"kernel": rng.standard_normal((3, 3)), "conv_bias": np.asarray(0.0),
              "w": rng.standard_normal((4, 4)), "b": np.asarray(0.0)}
    exercise("slides_tiny_cnn", "slides: convolution → tanh → sigmoid neuron → cross-entropy",
             partial(slides.tiny_cnn_gradients, image, 0.0),
             partial(slides.engine_tiny_cnn_loss, image, 0.0), params)


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], default_seed=42, argv=argv)
    rng = np.random.default_rng(args.seed)
    cosine_exercises()
    nn_basics_exercises(rng)
    sine_exercises()
    slides_exercises(rng)


if __name__ == "__main__":
    main()
