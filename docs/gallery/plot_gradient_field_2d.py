"""
A 2-D gradient field and its uncertainty
========================================

A GP fitted to noisy values of :math:`f(x) = \\sin(x_0)\\cos(x_1)` predicts the gradient
:math:`\\nabla f` everywhere, jointly with its covariance. Arrows: the posterior mean of the
gradient; colour: the posterior standard deviation of :math:`\\partial f/\\partial x_0`, small
near the data (dots) and large away from it.
"""

import matplotlib.pyplot as plt
import numpy as np

from kernelgen import GaussianProcess, kernels

rng = np.random.default_rng(1)
X = rng.uniform(-2, 2, size=(40, 2))
y = np.sin(X[:, 0]) * np.cos(X[:, 1]) + 0.02 * rng.standard_normal(40)
gp = GaussianProcess(kernels.rbf(2, length_scale=[1.0, 1.0], ard=True), noise=1e-3).fit(X, y)

g0, g1 = np.meshgrid(np.linspace(-2.5, 2.5, 15), np.linspace(-2.5, 2.5, 15))
grid = np.column_stack([g0.ravel(), g1.ravel()])
grad, std = gp.predict_gradient(grid, return_std=True)          # (m, 2) each
true = np.column_stack([np.cos(grid[:, 0]) * np.cos(grid[:, 1]), -np.sin(grid[:, 0]) * np.sin(grid[:, 1])])
print("largest gradient error inside the data region:",
      np.abs(grad - true)[np.all(np.abs(grid) <= 1.5, axis=1)].max().round(3))

fig, ax = plt.subplots(figsize=(6, 5))
shade = ax.pcolormesh(g0, g1, std[:, 0].reshape(g0.shape), shading="auto", cmap="Greys")
fig.colorbar(shade, ax=ax, label="posterior sd of ∂f/∂x0")
ax.quiver(grid[:, 0], grid[:, 1], grad[:, 0], grad[:, 1], color="C0", label="posterior mean of ∇f")
ax.plot(X[:, 0], X[:, 1], ".", color="C3", label="observations")
ax.set_xlabel("x0")
ax.set_ylabel("x1")
ax.set_title("Gradient of a GP fit of sin(x0) cos(x1)")
ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.12), ncol=2)
fig.tight_layout()
