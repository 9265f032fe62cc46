"""
A kernel nobody hand-derived, from a string
===========================================

A locally periodic kernel with a Matérn 5/2 envelope, typed as text. kernelgen derives its input
derivatives and its log-hyperparameter gradient symbolically (the fit uses the exact gradient),
knows it has two derivatives per argument at coincident points, and predicts :math:`df/dx`.
"""

import matplotlib.pyplot as plt
import numpy as np

from kernelgen import GaussianProcess, Kernel

k = Kernel.from_string(
    "s * (1 + sqrt(5)*abs(x0 - y0)/l + 5*(x0 - y0)^2/(3*l^2)) * exp(-sqrt(5)*abs(x0 - y0)/l)"
    " * exp(-2*sin(pi*(x0 - y0)/p)^2 / w^2)",
    dim=1, l=2.0, p=0.5, w=1.0, name="local_periodic")
print(k)
print("derivatives per argument at x = x':", int(k.smoothness // 2))
print("gradient in log", k.hyperparameter_names)

rng = np.random.default_rng(4)
X = np.sort(rng.uniform(0, 3, 50))[:, None]
y = np.sin(4 * np.pi * X[:, 0]) * np.exp(-0.3 * X[:, 0]) + 0.05 * rng.standard_normal(50)
gp = GaussianProcess(k.fix("p"), noise=1e-2).fit(X, y)
print("fitted:", gp.kernel_)

grid = np.linspace(0, 3, 300)[:, None]
f, fs = gp.predict(grid, return_std=True)
df, dfs = gp.predict(grid, deriv=(0,), return_std=True)
fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
ax0.plot(X[:, 0], y, ".", color="0.5", label="data")
ax0.plot(grid[:, 0], f, "C0", label="posterior mean of f")
ax0.fill_between(grid[:, 0], f - 2 * fs, f + 2 * fs, color="C0", alpha=0.2, label="mean ± 2 sd of f")
ax0.set_ylabel("f(x)")
ax0.set_title("GP with a locally periodic kernel written as a string")
ax0.legend(loc="upper right", fontsize="small")
ax1.plot(grid[:, 0], df, "C1", label="posterior mean of df/dx")
ax1.fill_between(grid[:, 0], df - 2 * dfs, df + 2 * dfs, color="C1", alpha=0.25, label="mean ± 2 sd of df/dx")
ax1.set_xlabel("x")
ax1.set_ylabel("df/dx")
ax1.legend(loc="upper right", fontsize="small")
fig.tight_layout()
