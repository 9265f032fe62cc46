"""
Derivatives of an already fitted scikit-learn model
===================================================

Most people who need GP derivatives already have a fitted ``GaussianProcessRegressor``.
:func:`kernelgen.sklearn.predict_derivative` reads its fitted state — including the
``normalize_y`` scale that the classic hand-rolled answer forgets to undo — and returns the
derivative's posterior mean and standard deviation without refitting.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.gaussian_process.kernels import ConstantKernel as C

from kernelgen.sklearn import predict_derivative

rng = np.random.default_rng(5)
X = rng.uniform(0, 1, size=(60, 1))
y = 5 * np.sin(2 * np.pi * X[:, 0]) + 3 + 0.3 * rng.standard_normal(60)
gpr = GaussianProcessRegressor(C(1.0) * RBF(0.2) + WhiteKernel(0.01), normalize_y=True, random_state=0).fit(X, y)

grid = np.linspace(0, 1, 101)[:, None]
mean, std = predict_derivative(gpr, grid, deriv=(0,), return_std=True)
truth = 10 * np.pi * np.cos(2 * np.pi * grid[:, 0])
# The hand-rolled formula without the normalize_y scale, for comparison:
forgot = mean / gpr._y_train_std
print(f"fitted kernel: {gpr.kernel_}")
print(f"RMSE with kernelgen {np.sqrt(np.mean((mean - truth) ** 2)):.2f}, "
      f"forgetting normalize_y {np.sqrt(np.mean((forgot - truth) ** 2)):.2f}")

fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(grid[:, 0], mean, "C1", label="predict_derivative: mean of df/dx")
ax.fill_between(grid[:, 0], mean - 2 * std, mean + 2 * std, color="C1", alpha=0.25, label="mean ± 2 sd")
ax.plot(grid[:, 0], forgot, "C7:", label="same, normalize_y scale forgotten")
ax.plot(grid[:, 0], truth, "k--", label="truth 10π cos(2πx)")
ax.set_xlabel("x")
ax.set_ylabel("df/dx")
ax.set_title("df/dx from a fitted GaussianProcessRegressor (normalize_y=True)")
ax.legend(loc="lower left", fontsize="small")
fig.tight_layout()
