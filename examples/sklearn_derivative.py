"""The seed question, answered for a scikit-learn user: dy/dx of a fitted GP with error bars.

A ``GaussianProcessRegressor`` (with ``normalize_y=True``, the setting the hand-written answers
forget to undo) is fitted to noisy samples of sin(2 pi x); kernelgen reads its fitted state and
returns the posterior mean and standard deviation of df/dx, compared with 2 pi cos(2 pi x).

Run: ``python examples/sklearn_derivative.py``
"""

from __future__ import annotations

import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.gaussian_process.kernels import ConstantKernel as C

from kernelgen.sklearn import predict_derivative


def main(n: int = 200, seed: int = 0) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, size=(n, 1))
    y = np.sin(2 * np.pi * X[:, 0]) + 0.1 * rng.normal(size=n)
    gpr = GaussianProcessRegressor(C(1.0) * RBF(0.2) + WhiteKernel(0.01), normalize_y=True, random_state=seed)
    gpr.fit(X, y)

    Xs = np.linspace(0.05, 0.95, 19)[:, None]
    mean, std = predict_derivative(gpr, Xs, deriv=(0,), return_std=True)
    truth = 2 * np.pi * np.cos(2 * np.pi * Xs[:, 0])
    print(f"fitted kernel: {gpr.kernel_}")
    print(f"{'x':>6} {'df/dx':>9} {'2 sigma':>8} {'truth':>9}")
    for x, m, s, t in zip(Xs[:, 0], mean, std, truth):
        print(f"{x:6.2f} {m:9.3f} {2 * s:8.3f} {t:9.3f}")
    rmse = float(np.sqrt(np.mean((mean - truth) ** 2)))
    coverage = float(np.mean(np.abs(mean - truth) <= 2 * std))
    print(f"RMSE {rmse:.3f}; truth inside mean +- 2 sigma at {coverage:.0%} of the points")
    return {"rmse": rmse, "coverage": coverage}


if __name__ == "__main__":
    main()
