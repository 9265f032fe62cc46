"""
The seed question: the derivative of a GP fit, with error bars
==============================================================

Noisy samples of :math:`\\sin(2\\pi x)`, an RBF kernel fitted by maximum marginal likelihood, and
the posterior of :math:`df/dx` against the truth :math:`2\\pi\\cos(2\\pi x)`. No finite
differences: the derivative's mean and variance come from the derivatives of the kernel.
"""

import matplotlib.pyplot as plt
import numpy as np

from kernelgen import GaussianProcess, kernels

rng = np.random.default_rng(0)
X = np.sort(rng.uniform(0, 1, 60))[:, None]
y = np.sin(2 * np.pi * X[:, 0]) + 0.1 * rng.standard_normal(60)

gp = GaussianProcess(kernels.rbf(1, length_scale=0.5), noise=0.1, random_state=0).fit(X, y)
grid = np.linspace(0, 1, 101)[:, None]
mean, std = gp.predict(grid, deriv=(0,), return_std=True)
truth = 2 * np.pi * np.cos(2 * np.pi * grid[:, 0])
print(f"fitted {gp.kernel_}; noise {gp.noise_:.3g}")
print(f"RMSE of df/dx {np.sqrt(np.mean((mean - truth) ** 2)):.3f}; "
      f"truth inside mean ± 2 sd at {np.mean(np.abs(mean - truth) <= 2 * std):.0%} of the grid")

fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(grid[:, 0], mean, "C1", label="posterior mean of df/dx")
ax.fill_between(grid[:, 0], mean - 2 * std, mean + 2 * std, color="C1", alpha=0.25, label="mean ± 2 sd")
ax.plot(grid[:, 0], truth, "k--", label="truth 2π cos(2πx)")
ax.set_xlabel("x")
ax.set_ylabel("df/dx")
ax.set_title("Derivative of a GP fitted to 60 noisy samples of sin(2πx)")
ax.legend(loc="lower left")
fig.tight_layout()
