"""
Learning from gradient observations
===================================

Derivative observations are observations like any other: ``fit(X, y, deriv=...)`` takes, per
row, the derivative it measures. Five values of :math:`f(x) = \\sin(3x)` alone leave the fit
uncertain between them; the same five points with their slopes pin it down. The slopes are
measured with a larger error than the values, so each kind gets its own noise variance (a dict
``noise``, fitted with the rest; the kernel's length scale is kept at 0.4 for both fits).
"""

import matplotlib.pyplot as plt
import numpy as np

from kernelgen import GaussianProcess, kernels

rng = np.random.default_rng(3)
x = np.array([[0.1], [0.55], [1.0], [1.5], [1.9]])
values = np.sin(3 * x[:, 0]) + 0.01 * rng.standard_normal(5)
slopes = 3 * np.cos(3 * x[:, 0]) + 0.1 * rng.standard_normal(5)
kernel = kernels.rbf(1, length_scale=0.4).fix("length_scale")

only_values = GaussianProcess(kernel, noise=1e-4, noise_bounds="fixed").fit(x, values)
both = GaussianProcess(kernel, noise={(): 1e-4, (0,): 1e-2})
both.fit(np.vstack([x, x]), np.concatenate([values, slopes]), deriv=[()] * 5 + [(0,)] * 5)
print("fitted noise variances per observation type:", {k: float(f"{v:.2g}") for k, v in both.noise_.items()})

grid = np.linspace(0, 2, 200)[:, None]
fig, ax = plt.subplots(figsize=(9.5, 4))
for gp, colour, label in [(only_values, "C0", "values only"), (both, "C3", "values and slopes")]:
    mean, std = gp.predict(grid, return_std=True)
    ax.plot(grid[:, 0], mean, colour, label=f"posterior mean, {label}")
    ax.fill_between(grid[:, 0], mean - 2 * std, mean + 2 * std, color=colour, alpha=0.2,
                    label=f"mean ± 2 sd, {label}")
ax.plot(grid[:, 0], np.sin(3 * grid[:, 0]), "k--", label="truth sin(3x)")
ax.plot(x[:, 0], values, "ko", label="observed values")
for xi, yi, si in zip(x[:, 0], values, slopes):  # the observed slopes as short tangents
    ax.plot([xi - 0.08, xi + 0.08], [yi - 0.08 * si, yi + 0.08 * si], "k-", lw=2)
ax.set_xlabel("x")
ax.set_ylabel("f(x)")
ax.set_title("Five points, with and without their slopes")
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
fig.tight_layout()
