"""Main demo: fit the cosine post's 1-5-1 tanh network with the engine and check its gradients."""
import numpy as np

import autograd_lite as al
from autograd_lite import Value


def main():
    rng = np.random.default_rng(42)
    t = np.linspace(0.0, 1.0, 50).reshape(-1, 1)
    y = np.cos(2 * np.pi * t)
    w1, b1 = Value(rng.normal(size=(1, 5)), name="w1"), Value(rng.normal(size=5), name="b1")
    w2, b2 = Value(rng.normal(size=(5, 1)), name="w2"), Value(rng.normal(size=1), name="b2")
    params = [w1, b1, w2, b2]

    def loss_fn(*ps):
        w1, b1, w2, b2 = ps
        prediction = ((t @ w1 + b1).tanh() @ w2 + b2).tanh()
        return ((prediction - y) ** 2).mean()

    print("gradcheck of the loss:", al.gradcheck(loss_fn, params))
    for epoch in range(3001):
        loss = loss_fn(*params)
        for p in params:
            p.grad = None
        loss.backward()
        for p in params:
            p.data -= 0.5 * p.grad
        if epoch % 500 == 0:
            print(f"epoch {epoch:5d}  mse {loss.item():.6f}")


if __name__ == "__main__":
    main()
