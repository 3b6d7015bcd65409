"""A physics-informed neural network (PINN) for the harmonic oscillator u'' + u = 0.

The sine README lists "Build Physics-Informed Neural Networks for differential
equations" as its next step. A PINN is trained without any solution data: the
loss asks the network u(t) to satisfy the equation and the initial conditions,

    loss = mean over collocation points of (u''(t) + u(t))²  +  (u(0) - 1)²  +  u'(0)²,

on t in [0, 2π]. The exact solution is u(t) = cos(t).

u' and u'' are derivatives of the network with respect to its *input*, taken by
function transforms (`autograd_lite.func`, torch.func's names): for one number t,
u'' is `func.grad(func.grad(u))(t)`. Here all collocation points go through the
network at once; it treats each row of t on its own, so the gradient of Σ u(tᵢ)
is u'(tᵢ) at every point, and the gradient of Σ u'(tᵢ) is u''(tᵢ). The results are
recorded, and `loss.backward()` differentiates through both derivatives to reach
the weights — third-order reverse mode.

Figures (in --out): pinn_solution.png (u and u' against the analytic solution,
and the pointwise error), pinn_loss.png.

    python examples/pinn_oscillator.py [--out out/] [--quick] [--seed 0]
"""
import numpy as np
from matplotlib import pyplot as plt

import nn
from autograd_lite import func
from _common import Stopwatch, parse_args, report, save_figure, save_loss_plot, train_full_batch

T_END = 2 * np.pi
N_COLLOCATION = 64
WIDTH = 32
ITERATIONS = 3000
LEARNING_RATE = 0.01


def derivatives(model, t_points):
    """u, u' and u'' of the network at the given times, all differentiable Values,
    from one forward pass (has_aux carries u, then u and u', out of each grad)."""
    def total_u(t):
        u = model(t)
        return u.sum(), u

    def total_du(t):
        du, u = func.grad(total_u, has_aux=True)(t)
        return du.sum(), (u, du)

    d2u, (u, du) = func.grad(total_du, has_aux=True)(t_points)
    return u, du, d2u


def physics_loss(model, t_collocation):
    """Squared residual of u'' + u = 0, plus the initial conditions u(0) = 1 and u'(0) = 0."""
    u, _, d2u = derivatives(model, t_collocation)
    u0, du0, _ = derivatives(model, np.zeros((1, 1)))
    residual = d2u + u
    return (residual ** 2).mean() + ((u0 - 1.0) ** 2).sum() + (du0 ** 2).sum()


def plot_solution(t, u, du, out):
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    axes[0].plot(t, np.cos(t), color="0.6", linewidth=4, label="u = cos t (exact)")
    axes[0].plot(t, u, "--", label="u (PINN)")
    axes[0].plot(t, -np.sin(t), color="0.8", linewidth=4, label="u' = -sin t (exact)")
    axes[0].plot(t, du, ":", label="u' (PINN, by autograd)")
    axes[0].set(xlabel="t", title="u'' + u = 0,  u(0) = 1,  u'(0) = 0")
    axes[0].legend(fontsize=8)
    axes[1].semilogy(t, np.abs(u - np.cos(t)) + 1e-16)
    axes[1].set(xlabel="t", ylabel="|u - cos t|", title="Pointwise error")
    return save_figure(fig, out, "pinn_solution.png")


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], default_seed=0, argv=argv)
    t_collocation = np.linspace(0.0, T_END, N_COLLOCATION).reshape(-1, 1)
    model = nn.MLP([1, WIDTH, WIDTH, 1], activation="tanh", rng=np.random.default_rng(args.seed))
    with Stopwatch("train"):
        losses = train_full_batch(model, lambda: physics_loss(model, t_collocation),
                                  epochs=300 if args.quick else ITERATIONS, lr=LEARNING_RATE,
                                  log_every=500)

    t = np.linspace(0.0, T_END, 500).reshape(-1, 1)
    u, du, d2u = (v.data for v in derivatives(model, t))
    report("final_physics_loss", losses[-1])
    report("max_error", float(np.max(np.abs(u - np.cos(t)))))
    report("max_error_derivative", float(np.max(np.abs(du + np.sin(t)))))
    report("max_residual", float(np.max(np.abs(d2u + u))))
    plot_solution(t.ravel(), u.ravel(), du.ravel(), args.out)
    save_loss_plot(losses, args.out, "pinn_loss.png", "Training the PINN (Adam)",
                   ylabel="physics loss", xlabel="iteration")


if __name__ == "__main__":
    main()
