"""
Curvature: the Hessian of a GP fit
==================================

``predict_hessian`` returns the posterior mean and variance of every second derivative. Here a
1-D fit of :math:`f(x) = x^3 - x` and its second derivative :math:`6x`, and the mixed entry
:math:`\\partial^2 f/\\partial x_0\\partial x_1` of a 2-D fit of :math:`x_0 x_1`.
"""

import matplotlib.pyplot as plt
import numpy as np

from kernelgen import GaussianProcess, kernels

rng = np.random.default_rng(2)
X = rng.uniform(-1, 1, size=(30, 1))
y = X[:, 0] ** 3 - X[:, 0] + 0.01 * rng.standard_normal(30)
gp = GaussianProcess(kernels.rbf(1, length_scale=0.7), noise=1e-3).fit(X, y)
grid = np.linspace(-1, 1, 81)[:, None]
H, V = gp.predict_hessian(grid, return_var=True)                  # (m, 1, 1) each
d2, sd = H[:, 0, 0], np.sqrt(V[:, 0, 0])

Z = rng.uniform(-1, 1, size=(40, 2))
gp2 = GaussianProcess(kernels.rbf(2, length_scale=[1.0, 1.0], ard=True), noise=1e-6, noise_bounds="fixed",
                      optimizer=None).fit(Z, Z[:, 0] * Z[:, 1])
H2 = gp2.predict_hessian(np.zeros((1, 2)))
print("Hessian of x0*x1 at the origin (truth [[0, 1], [1, 0]]):")
print(H2[0].round(3))

fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(grid[:, 0], d2, "C2", label="posterior mean of d²f/dx²")
ax.fill_between(grid[:, 0], d2 - 2 * sd, d2 + 2 * sd, color="C2", alpha=0.25, label="mean ± 2 sd")
ax.plot(grid[:, 0], 6 * grid[:, 0], "k--", label="truth 6x")
ax.set_xlabel("x")
ax.set_ylabel("d²f/dx²")
ax.set_title("Second derivative of a GP fit of x³ − x (30 noisy values)")
ax.legend(loc="upper left")
fig.tight_layout()
