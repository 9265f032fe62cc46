"""The seed example extended to integrals: F(x) = int_0^x f and int_0^1 f of a fitted GP, with error bars.

A GP with an RBF kernel is fitted to noisy samples of f(x) = sin(2 pi x). The seed answer's
``If`` is "up to a constant"; here the antiderivative F(x) = int_0^x f is a posterior of its own
(mean and standard deviation, F(0) = 0), compared with the truth (1 - cos 2 pi x) / (2 pi), and
the definite integral int_0^1 f (truth 0) comes with its standard deviation. The same numbers from
a fitted scikit-learn ``GaussianProcessRegressor`` (``normalize_y=True``, ``WhiteKernel`` noise)
through :mod:`kernelgen.sklearn`.

Run: ``python examples/integrals.py``
"""

from __future__ import annotations

import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.gaussian_process.kernels import ConstantKernel as C

from kernelgen import GaussianProcess, kernels
from kernelgen.sklearn import predict_antiderivative, predict_integral


def _truth(x: np.ndarray) -> np.ndarray:
    return (1.0 - np.cos(2 * np.pi * x)) / (2 * np.pi)


def main(n: int = 60, seed: int = 0) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    X = np.sort(rng.uniform(0, 1, n))[:, None]
    y = np.sin(2 * np.pi * X[:, 0]) + 0.1 * rng.standard_normal(n)
    gp = GaussianProcess(kernels.rbf(1, length_scale=0.5), noise=0.1, random_state=seed).fit(X, y)

    grid = np.linspace(0, 1, 11)[:, None]
    F, sF = gp.predict_antiderivative(grid, anchor=0.0, return_std=True)
    total, s_total = gp.predict_integral(0.0, 1.0, return_std=True)
    print(f"fitted {gp.kernel_}; noise {gp.noise_:.3g}")
    print(f"{'x':>5} {'F(x)':>9} {'2 sd':>8} {'truth':>9}")
    for x, m, s, t in zip(grid[:, 0], F, sF, _truth(grid[:, 0])):
        print(f"{x:5.2f} {m:9.4f} {2 * s:8.4f} {t:9.4f}")
    print(f"int_0^1 f = {total[0]:.4f} +- {s_total[0]:.4f} (truth 0)")

    gpr = GaussianProcessRegressor(C(1.0) * RBF(0.2) + WhiteKernel(0.01), normalize_y=True, random_state=seed)
    gpr.fit(X, y)
    F_sk = predict_antiderivative(gpr, grid, anchor=0.0)
    total_sk, s_sk = predict_integral(gpr, 0.0, 1.0, return_std=True)
    print(f"scikit-learn ({gpr.kernel_}): int_0^1 f = {total_sk[0]:.4f} +- {s_sk[0]:.4f}, "
          f"RMSE of F {np.sqrt(np.mean((F_sk - _truth(grid[:, 0])) ** 2)):.4f}")
    return {"rmse": float(np.sqrt(np.mean((F - _truth(grid[:, 0])) ** 2))),
            "coverage": float(np.mean(np.abs(F - _truth(grid[:, 0])) <= 2 * sF + 1e-12)),
            "integral": float(total[0]), "integral_std": float(s_total[0])}


if __name__ == "__main__":
    main()
